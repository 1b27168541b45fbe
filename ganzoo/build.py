"""Turns a resolved run configuration into live components, checking that they fit together."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ganzoo.components import Dataset, DataSpec, Discriminator, Generator, Loss
from ganzoo.errors import IncompatibleError, PluginError, UsageError
from ganzoo.manager import PluginManager
from ganzoo.recipes import RunConfig
from ganzoo.sampling import eval_mode

BASES = {"generator": Generator, "discriminator": Discriminator, "dataset": Dataset, "loss": Loss}


@dataclass
class Classes:
    """The four registered classes a run configuration names."""

    generator: type[Generator]
    discriminator: type[Discriminator]
    dataset: type[Dataset]
    loss: type[Loss]


def lookup(manager: PluginManager, kind: str, name: str) -> Any:
    """The class registered as ``name``; refuses one that is not the right kind of component."""
    entry = manager.registry.get(kind, name)
    cls: Any = entry.load()
    if not (isinstance(cls, type) and issubclass(cls, BASES[kind])):
        raise PluginError(
            f"The {kind} '{name}' from {entry.plugin.dist} {entry.plugin.version} is not a "
            f"ganzoo.components.{BASES[kind].__name__} subclass."
        )
    named: Any = cls
    named.registered_name = entry.name  # for messages that name the component as the user did
    named.registered_by = f"{entry.plugin.dist} {entry.plugin.version}"
    return named


def classes_for(manager: PluginManager, config: RunConfig) -> Classes:
    return Classes(
        lookup(manager, "generator", config.generator),
        lookup(manager, "discriminator", config.discriminator),
        lookup(manager, "dataset", config.dataset),
        lookup(manager, "loss", config.loss),
    )


def _construct(kind: str, name: str, factory: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return factory(*args, **kwargs)
    except (UsageError, IncompatibleError):
        raise
    except TypeError as exc:
        raise UsageError(f"The {kind} '{name}' does not accept these parameters: {exc}.") from exc
    except Exception as exc:  # a plugin's constructor can fail in any way
        raise PluginError(
            f"Building the {kind} '{name}' ({_origin(factory)}) failed: {type(exc).__name__}: {exc}."
        ) from exc


def _origin(cls: Any) -> str:
    """The distribution that registered ``cls`` ("ganzoo-extra 1.0"), else its module."""
    return str(getattr(cls, "registered_by", None) or getattr(cls, "__module__", "?"))


def build_dataset(classes: Classes, config: RunConfig, data_dir: Path | None) -> Dataset:
    dataset: Dataset = _construct(
        "dataset", config.dataset, classes.dataset, data_dir, **config.params["dataset"]
    )
    return dataset


def build_generator(cls: type[Generator], config: RunConfig, spec: DataSpec) -> Generator:
    """Check the generator against the data, then build it."""
    cls.check(spec)
    g: Generator = _construct(
        "generator", config.generator, cls, spec, config.train.latent_dim, **config.params["generator"]
    )
    return g


def build_discriminator(cls: type[Discriminator], config: RunConfig, spec: DataSpec) -> Discriminator:
    """Check the discriminator against the data, then build it."""
    cls.check(spec)
    d: Discriminator = _construct(
        "discriminator", config.discriminator, cls, spec, **config.params["discriminator"]
    )
    return d


def build_networks(classes: Classes, config: RunConfig, spec: DataSpec) -> tuple[Generator, Discriminator]:
    """Both networks for ``spec`` (the generator first, so seeded weights do not depend on D)."""
    classes.generator.check(spec)  # refuse a bad pair before spending time on either
    classes.discriminator.check(spec)
    g = build_generator(classes.generator, config, spec)
    d = build_discriminator(classes.discriminator, config, spec)
    probe(g, d, config, spec)
    return g, d


def probe(g: Generator, d: Discriminator, config: RunConfig, spec: DataSpec) -> None:
    """Run both networks once on two samples, so a plugin's wrong shapes fail here, named, not mid-run.

    In eval mode, on zeros, under no_grad: no random numbers drawn and no BatchNorm statistic moved,
    so a seeded run trains exactly as it would without the probe.
    """
    want = (2, *spec.shape)
    for kind, net, name in (("generator", g, config.generator), ("discriminator", d, config.discriminator)):
        origin = _origin(type(net))
        given = (2, config.train.latent_dim) if kind == "generator" else want
        try:
            with eval_mode(net), torch.no_grad():
                out = net(torch.zeros(given))
        except Exception as exc:
            raise PluginError(
                f"The {kind} '{name}' ({origin}) failed on a batch of shape {given}: "
                f"{type(exc).__name__}: {exc}."
            ) from exc
        ok = tuple(out.shape) == want if kind == "generator" else out.shape[:1] == (2,) and out.numel() == 2
        if not ok:
            expected = f"(N, {', '.join(map(str, spec.shape))})" if kind == "generator" else "(N,) logits"
            raise PluginError(
                f"The {kind} '{name}' ({origin}) returned a tensor of shape {tuple(out.shape)} for a batch "
                f"of 2; it must return {expected}."
            )


def build_loss(classes: Classes, config: RunConfig) -> Loss:
    loss: Loss = _construct("loss", config.loss, classes.loss, **config.params["loss"])
    return loss
