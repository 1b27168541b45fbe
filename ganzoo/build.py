"""Turns a resolved run configuration into live components, checking that they fit together."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ganzoo.components import Dataset, DataSpec, Discriminator, Generator, Loss
from ganzoo.errors import IncompatibleError, PluginError, UsageError
from ganzoo.manager import PluginManager
from ganzoo.sampling import eval_mode
from ganzoo.settings import CORE_PARAMS, RunConfig

BASES = {"generator": Generator, "discriminator": Discriminator, "dataset": Dataset, "loss": Loss}


@dataclass(frozen=True)
class Component:
    """A registered component class, with the name the run calls it by and who registered it."""

    kind: str
    name: str
    cls: Any
    origin: str  # "DIST VERSION", for messages that name the plugin


@dataclass(frozen=True)
class Components:
    """The four components a run configuration names."""

    generator: Component
    discriminator: Component
    dataset: Component
    loss: Component


def component(manager: PluginManager, kind: str, name: str, base: type | None = None) -> Component:
    """The class registered as ``name``; refuses one that is not a subclass of ``base``
    (the kind's class in ganzoo.components unless given)."""
    entry = manager.registry.get(kind, name)
    cls: Any = entry.load()
    origin = f"{entry.plugin.dist} {entry.plugin.version}"
    base = base or BASES[kind]
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise PluginError(
            f"The {kind} '{name}' from {origin} is not a {base.__module__}.{base.__name__} subclass."
        )
    return Component(kind, entry.name, cls, origin)


def lookup(manager: PluginManager, kind: str, name: str) -> Any:
    """The class registered as ``name`` (what :func:`ganzoo.resolve.resolve` asks for)."""
    return component(manager, kind, name).cls


def components_for(manager: PluginManager, config: RunConfig) -> Components:
    return Components(
        component(manager, "generator", config.generator),
        component(manager, "discriminator", config.discriminator),
        component(manager, "dataset", config.dataset),
        component(manager, "loss", config.loss),
    )


def _construct(c: Component, *args: Any, **kwargs: Any) -> Any:
    try:
        return c.cls(*args, **kwargs)
    except (UsageError, IncompatibleError):
        raise
    except TypeError as exc:
        raise UsageError(f"The {c.kind} '{c.name}' does not accept these parameters: {exc}.") from exc
    except Exception as exc:  # a plugin's constructor can fail in any way
        raise PluginError(
            f"Building the {c.kind} '{c.name}' ({c.origin}) failed: {type(exc).__name__}: {exc}."
        ) from exc


def check_fits(c: Component, spec: DataSpec) -> None:
    """Refuse, in a sentence, a network that does not serve the data's modality or shape."""
    if spec.modality not in c.cls.modalities:
        raise IncompatibleError(
            f"The {c.kind} '{c.name}' works on {' or '.join(c.cls.modalities)} data, but the dataset "
            f"holds {spec.modality} data of shape {'x'.join(map(str, spec.shape))}."
        )
    c.cls.check(spec)


def build_dataset(c: Component, config: RunConfig, data_dir: Path | None) -> Dataset:
    dataset: Dataset = _construct(c, data_dir, **config.params["dataset"])
    return dataset


def build_generator(c: Component, config: RunConfig, spec: DataSpec) -> Generator:
    """Check the generator against the data, then build it."""
    check_fits(c, spec)
    g: Generator = _construct(c, spec, config.train.latent_dim, **config.params["generator"])
    return g


def own_params(c: Component, params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(what the component takes, what ganzoo implements for it: ``settings.CORE_PARAMS``)."""
    core = {k: v for k, v in params.items() if k in CORE_PARAMS.get(c.kind, {}) and k not in c.cls.defaults}
    return {k: v for k, v in params.items() if k not in core}, core


def build_discriminator(c: Component, config: RunConfig, spec: DataSpec) -> Discriminator:
    """Check the discriminator against the data, then build it (spectrally normalised if asked)."""
    check_fits(c, spec)
    own, core = own_params(c, config.params["discriminator"])
    d: Discriminator = _construct(c, spec, **own)
    normalise = core.get("spectral_norm", False)
    if not isinstance(normalise, bool):
        raise UsageError(f"discriminator.spectral_norm must be true or false, got {normalise!r}.")
    if normalise:
        spectral_norm_all(d)
    return d


def spectral_norm_all(module: torch.nn.Module) -> int:
    """Spectral normalisation (Miyato et al. 2018) of every Linear and Conv layer's weight that has
    none yet, through torch's parametrisation (one power iteration per training forward pass).
    Returns how many layers it normalised."""
    from torch.nn.utils import parametrize
    from torch.nn.utils.parametrizations import spectral_norm

    layers = (torch.nn.Linear, torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Conv3d, torch.nn.ConvTranspose2d)
    done = 0
    for layer in list(module.modules()):
        old_style = any(hasattr(layer, f"weight_{s}") for s in ("orig", "u"))  # torch.nn.utils.spectral_norm
        if isinstance(layer, layers) and not parametrize.is_parametrized(layer, "weight") and not old_style:
            spectral_norm(layer)
            done += 1
    return done


def build_networks(
    components: Components, config: RunConfig, spec: DataSpec
) -> tuple[Generator, Discriminator]:
    """Both networks for ``spec`` (the generator first, so seeded weights do not depend on D)."""
    check_fits(components.generator, spec)  # refuse a bad pair before spending time on either
    check_fits(components.discriminator, spec)
    g = build_generator(components.generator, config, spec)
    d = build_discriminator(components.discriminator, config, spec)
    probe(g, d, components, config, spec)
    return g, d


def probe(g: Generator, d: Discriminator, components: Components, config: RunConfig, spec: DataSpec) -> None:
    """Run both networks once on two samples, so a plugin's wrong shapes fail here, named, not mid-run.

    In eval mode, on zeros, under no_grad: no random numbers drawn and no BatchNorm statistic moved,
    so a seeded run trains exactly as it would without the probe.
    """
    want = (2, *spec.shape)
    for c, net in ((components.generator, g), (components.discriminator, d)):
        given = (2, config.train.latent_dim) if c.kind == "generator" else want
        try:
            with eval_mode(net), torch.no_grad():
                out = net(torch.zeros(given))
        except Exception as exc:
            raise PluginError(
                f"The {c.kind} '{c.name}' ({c.origin}) failed on a batch of shape {given}: "
                f"{type(exc).__name__}: {exc}."
            ) from exc
        ok = tuple(out.shape) == want if c.kind == "generator" else out.shape[:1] == (2,) and out.numel() == 2
        if not ok:
            expected = f"(N, {', '.join(map(str, spec.shape))})" if c.kind == "generator" else "(N,) logits"
            raise PluginError(
                f"The {c.kind} '{c.name}' ({c.origin}) returned a tensor of shape {tuple(out.shape)} for a "
                f"batch of 2; it must return {expected}."
            )


def build_loss(c: Component, config: RunConfig) -> Loss:
    """The loss, built with its own hyperparameters (R1/R2 are the trainer's, not the loss's)."""
    own, _ = own_params(c, config.params["loss"])
    loss: Loss = _construct(c, **own)
    return loss
