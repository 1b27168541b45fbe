"""Turns a resolved run configuration into live components, checking that they fit together."""

from __future__ import annotations

import json
import re
import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch

from ganzoo.components import OUTPUT_RANGES, Dataset, DataSpec, Discriminator, Generator, Loss
from ganzoo.errors import (
    DataError,
    IncompatibleError,
    PluginError,
    UnknownComponentError,
    UsageError,
    first_line,
)
from ganzoo.manager import PluginManager
from ganzoo.record import RunRecord
from ganzoo.registry import same_dist
from ganzoo.sampling import eval_mode
from ganzoo.settings import CORE_PARAMS, RunConfig, brief, check_core_param, finite_number

#: The shapes a discriminator may return for the probe's batch of 2: (N,), or (N, 1) as a final
#: ``nn.Linear(..., 1)`` gives it (docs/plugins.md).
D_SHAPES = ((2,), (2, 1))

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


def component(
    manager: PluginManager, kind: str, name: str, base: type | None = None, record: RunRecord | None = None
) -> Component:
    """The class registered as ``name``; refuses one that is not a subclass of ``base``
    (the kind's class in ganzoo.components unless given). ``record``: the run that names it, so an
    unknown name can say which distribution (and version) the run was trained with."""
    try:
        entry = manager.registry.get(kind, name)
    except UnknownComponentError as exc:
        missing = None if record is None else _not_installed(manager, kind, name, record)
        if missing is None:
            raise
        # The command line is fine; this machine lacks what the run was made with: exit 1.
        raise PluginError(missing) from exc
    cls: Any = entry.load()
    origin = f"{entry.plugin.dist} {entry.plugin.version}"
    base = base or BASES[kind]
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise PluginError(
            f"The {kind} '{name}' from {origin} is not a {base.__module__}.{base.__name__} subclass."
        )
    return Component(kind, entry.name, cls, origin)


def _not_installed(manager: PluginManager, kind: str, name: str, record: RunRecord) -> str | None:
    """Why a run's component is gone, from the distribution and version its record names (a plugin
    uninstalled, disabled, broken or upgraded past it); None when the record does not say."""
    qualified = record.components.get(kind, "")
    dist, sep, short = qualified.rpartition(":")
    if not sep or not dist:
        return None
    plugins = record.versions.get("plugins", {}) if isinstance(record.versions, dict) else {}
    version = next((str(v) for d, v in plugins.items() if same_dist(d, dist)), None)
    if version is None and same_dist(dist, "ganzoo"):
        version = str(record.versions.get("ganzoo", "")) or None
    trained = f"{dist} {version}" if version else dist
    install = f"pip install {dist}=={version}" if version else f"pip install {dist}"
    here = [p for p in manager.plugins if same_dist(p.info.dist, dist)]
    head = f"Unknown {kind} '{name}': the run was trained with the {kind} '{short}' from {trained}"
    if any(p.status == "blocked" for p in here):
        reason = next(p.reason for p in here if p.status == "blocked")
        return f"{head}, which is installed but disabled here ({reason}); enable it to use this run."
    if any(p.status == "failed" for p in here):
        reason = next(p.reason for p in here if p.status == "failed")
        return f"{head}, which failed to load here ({reason}); fix it or `{install}`."
    if here:
        now = here[0].info.version
        return f"{head}, and {dist} {now} installed here does not register it; `{install}` to use this run."
    return f"{head}, which is not installed; `{install}` to use this run."


def lookup(manager: PluginManager, kind: str, name: str) -> Any:
    """The class registered as ``name`` (what :func:`ganzoo.resolve.resolve` asks for)."""
    return component(manager, kind, name).cls


def components_for(manager: PluginManager, config: RunConfig, record: RunRecord | None = None) -> Components:
    """The four components ``config`` names, their hyperparameters checked against their defaults
    (before any data is loaded); ``record``: the run being resumed, for the messages."""
    parts = Components(
        component(manager, "generator", config.generator, record=record),
        component(manager, "discriminator", config.discriminator, record=record),
        component(manager, "dataset", config.dataset, record=record),
        component(manager, "loss", config.loss, record=record),
    )
    for c in (parts.generator, parts.discriminator, parts.dataset, parts.loss):
        check_params(c, config.params.get(c.kind, {}))
    return parts


def check_params(c: Component, params: dict[str, Any]) -> None:
    """Refuse, in a sentence, a hyperparameter whose value is not of the type its declared default
    is (an int wants a whole number; a float any number; a bool true or false; a str a string; a
    list a list), before the component's constructor turns it into a torch error."""
    # ganzoo's own parameters of every loss and D (R1/R2, ACGAN, spectral norm) are typed the same
    # way, then their ranges checked (unless the component declares one of them: then it is its own).
    core = CORE_PARAMS.get(c.kind, {})
    defaults = {**core, **c.cls.defaults}
    for key, value in params.items():
        if key not in defaults:
            continue
        want = _wanted(defaults[key], value)
        if want is not None:
            raise UsageError(f"{c.kind}.{key} must be {want}, got {_show(value)}.")
        if key in core and key not in c.cls.defaults:
            check_core_param(c.kind, key, value)


def _wanted(default: Any, value: Any) -> str | None:
    """What ``value`` should be, in words, given the parameter's ``default``; None when it fits."""
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(default, bool):
        return None if isinstance(value, bool) else "true or false"
    if isinstance(default, int):
        if not (number and isinstance(value, int)):
            return "a whole number"
        return None if finite_number(value) else "a whole number below 2^63"  # torch's 64-bit ints
    if isinstance(default, float):
        if not number:
            return "a number"
        return None if finite_number(value) else "a finite number"
    if isinstance(default, str):
        return None if isinstance(value, str) else "a string"
    if isinstance(default, (list, tuple)):
        return None if isinstance(value, (list, tuple)) else f"a list like {_show(list(default))}"
    return None  # None or another type: the component says what it takes


def _show(value: Any) -> str:
    """A value as the user wrote it on the command line (cut short when long)."""
    if isinstance(value, str):
        return brief(value)
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        return brief(value)
    return text if len(text) <= 60 else f"{text[:57]}..."


#: What a torch error about a tensor's size says: a hyperparameter sized a layer impossibly.
SIZE_ERROR = re.compile(r"negative dimension|dimension|size|shape|positive|non-?negative|empty\(\)", re.I)


def _size_error(c: Component, params: dict[str, Any], exc: Exception) -> str | None:
    """The sentence for a constructor that failed on a size the user set; None when no parameter
    differs from its default (then the plugin itself is at fault) or the error is not about sizes."""
    defaults = c.cls.defaults
    changed = _changed(c, params)
    if not changed or not SIZE_ERROR.search(str(exc)):
        return None
    not_positive = _not_positive(c, params, str(exc))
    if not_positive is not None:
        return not_positive
    given = ", ".join(f"{c.kind}.{k}={_show(v)}" for k, v in changed.items())
    takes = ", ".join(f"{k} (default {_show(v)})" for k, v in defaults.items())
    why = first_line(exc).rstrip(".")
    return (
        f"The {c.kind} '{c.name}' cannot be built with {given} ({type(exc).__name__}: {why}); "
        f"its parameters are {takes}."
    )


def _changed(c: Component, params: dict[str, Any]) -> dict[str, Any]:
    """The hyperparameters set to something other than the component's defaults (by the user or a
    recipe): when building fails on a size, these are the suspects."""
    return {k: v for k, v in params.items() if k in c.cls.defaults and v != c.cls.defaults[k]}


def _not_positive(c: Component, params: dict[str, Any], error: str = "") -> str | None:
    """The sentence for the one whole-number hyperparameter set to 0 or less, if there is one (of
    several, the one whose value torch's ``error`` names)."""
    found = [
        (k, v)
        for k, v in _changed(c, params).items()
        if isinstance(v, int) and not isinstance(v, bool) and isinstance(c.cls.defaults[k], int) and v <= 0
    ]
    if len(found) > 1:
        found = [(k, v) for k, v in found if re.search(rf"(?<![\w.-]){v}(?![\w.])", error)]
    if len(found) != 1:
        return None
    key, value = found[0]
    return f"{c.kind}.{key} must be a positive whole number, got {value}."


def _construct(c: Component, *args: Any, **params: Any) -> Any:
    check_params(c, params)
    try:
        with warnings.catch_warnings():
            if _not_positive(c, params) is not None:  # a layer of size 0: the sentence below says so
                warnings.filterwarnings("ignore", message="Initializing zero-element tensors")
            return c.cls(*args, **params)
    except (UsageError, IncompatibleError):
        raise
    except TypeError as exc:
        raise UsageError(
            f"The {c.kind} '{c.name}' does not accept these parameters: {first_line(exc)}."
        ) from exc
    except Exception as exc:  # a plugin's constructor can fail in any way
        sentence = _size_error(c, params, exc) if isinstance(exc, (ValueError, RuntimeError)) else None
        if sentence is not None:
            raise UsageError(sentence) from exc
        raise PluginError(
            f"Building the {c.kind} '{c.name}' ({c.origin}) failed: {type(exc).__name__}: {first_line(exc)}."
        ) from exc


def check_serves(c: Component, spec: DataSpec) -> None:
    """Refuse, in a sentence, a network that does not serve the data's modality or shape (and a
    generator whose declared output activation ganzoo does not know the range of)."""
    output = getattr(c.cls, "output", None)
    if c.kind == "generator" and output not in OUTPUT_RANGES:
        raise PluginError(
            f"The generator '{c.name}' ({c.origin}) declares output = {output!r}; ganzoo knows the range "
            f"of {' and '.join(repr(k) for k in OUTPUT_RANGES)} (components.OUTPUT_RANGES)."
        )
    if spec.modality not in c.cls.modalities:
        raise IncompatibleError(
            f"The {c.kind} '{c.name}' works on {' or '.join(c.cls.modalities)} data, but the dataset "
            f"holds {spec.modality} data of shape {'x'.join(map(str, spec.shape))}."
        )
    c.cls.check(spec)


def network_spec(spec: DataSpec, conditional: bool) -> DataSpec:
    """The DataSpec a network is built for: the data's, whose classes it sees only in a conditional
    run (so a network that can condition does so exactly when ``self.data.classes`` is set)."""
    return spec if conditional else replace(spec, classes=())


def check_conditional(components: Components, config: RunConfig, spec: DataSpec) -> None:
    """Refuse, in a sentence, a conditional run whose data has no classes or whose networks take no
    labels, and ACGAN's loss without a conditional run or a discriminator that classifies."""
    acgan = ganzoo_loss_params(components.loss.cls, config.params.get("loss", {})).get("acgan", 0.0)
    if not config.train.conditional:
        if acgan:
            raise UsageError(
                "loss.acgan trains an auxiliary classifier on the class labels, which only a conditional "
                "run has; add --conditional."
            )
        return
    if not spec.classes:
        raise UsageError(
            f"The dataset '{config.dataset}' has no classes, so it cannot train a conditional run; "
            "drop --conditional."
        )
    for c in (components.generator, components.discriminator):
        if not getattr(c.cls, "conditional", False):
            raise IncompatibleError(
                f"The {c.kind} '{c.name}' does not take class labels, so it cannot train a conditional "
                "run; drop --conditional or choose one that does (`ganzoo list` says which)."
            )
    if acgan and not callable(getattr(components.discriminator.cls, "classify", None)):
        raise IncompatibleError(
            f"loss.acgan needs a discriminator with an auxiliary classifier (a classify method), and "
            f"the discriminator '{components.discriminator.name}' has none."
        )


def build_dataset(c: Component, config: RunConfig, data_dir: Path | None) -> Dataset:
    dataset: Dataset = _construct(c, data_dir, **config.params["dataset"])
    return dataset


#: How many samples of a streamed (map-style) dataset :func:`check_values` looks at: reading them
#: all would cost an epoch before training starts.
STREAMED_CHECK = 8


def check_values(real: Any, spec: DataSpec, name: str) -> None:
    """Refuse, in a sentence, data whose values lie outside the range its dataset declares.

    The trainer maps ``value_range`` onto the generator's output range, so values outside it
    would train a generator that can never produce them, silently. ``real`` is what
    ``Dataset.load`` returned: a tensor is checked whole, a streamed dataset by its first samples.
    A tolerance of 1e-6 of the range's width allows float rounding.
    """
    if isinstance(real, torch.Tensor):
        values = real
    else:
        n = min(len(real), STREAMED_CHECK)
        if n == 0:
            return
        values = torch.stack([torch.as_tensor(real[i]) for i in range(n)])
    if values.numel() == 0:
        return
    low, high = spec.value_range
    declared = f"[{low:g}, {high:g}]"
    values = values.detach()
    if not bool(torch.isfinite(values).all()):
        raise DataError(
            f"The dataset '{name}' holds NaN or infinite values, but declares values in {declared} "
            "(its value_range)."
        )
    found_low, found_high = (float(v) for v in torch.aminmax(values.float()))
    slack = 1e-6 * (high - low)
    if found_low < low - slack or found_high > high + slack:
        raise DataError(
            f"The dataset '{name}' declares values in {declared} (its value_range), but its training "
            f"data holds values from {found_low:g} to {found_high:g}; scale them in load() or declare "
            "the range they have."
        )


def check_labels(ds: Dataset, spec: DataSpec, name: str, n: int, split: str = "train") -> torch.Tensor:
    """The dataset's class labels for ``split``, int64 (N,), refused in a sentence when there is not
    one a sample or one lies outside its classes (a plugin's ``labels`` gone wrong)."""
    try:
        labels = torch.as_tensor(ds.labels(split))
    except (UsageError, DataError):
        raise
    except Exception as exc:  # a plugin's labels() can fail in any way
        raise PluginError(
            f"The dataset '{name}' failed to give its labels: {type(exc).__name__}: {first_line(exc)}."
        ) from exc
    classes = len(spec.classes)
    if labels.dtype.is_floating_point or labels.dtype == torch.bool or tuple(labels.shape) != (n,):
        raise DataError(
            f"The dataset '{name}' gave labels of shape {tuple(labels.shape)} ({labels.dtype}) for its "
            f"{n} {split} samples; it must give one whole-number label a sample."
        )
    labels = labels.long()
    if n and (int(labels.min()) < 0 or int(labels.max()) >= classes):
        raise DataError(
            f"The dataset '{name}' gave labels from {int(labels.min())} to {int(labels.max())}, but it "
            f"declares {classes} classes (labels 0 to {classes - 1})."
        )
    return labels


def build_generator(c: Component, config: RunConfig, spec: DataSpec) -> Generator:
    """Check the generator against the data, then build it (for its classes in a conditional run)."""
    check_serves(c, spec)
    spec = network_spec(spec, config.train.conditional)
    g: Generator = _construct(c, spec, config.train.latent_dim, **config.params["generator"])
    return g


def ganzoo_loss_params(loss_cls: Any, params: dict[str, Any]) -> dict[str, Any]:
    """The loss hyperparameters ganzoo applies itself (R1, R2, their laziness, ACGAN's weight): those
    of ``settings.CORE_PARAMS`` the loss does not declare. A loss that declares one of them (its own
    ``r1``, say) owns it: it receives the value, and ganzoo does not apply its own as well."""
    declared = getattr(loss_cls, "defaults", {})
    return {k: v for k, v in params.items() if k in CORE_PARAMS["loss"] and k not in declared}


def own_params(c: Component, params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(what the component takes, what ganzoo implements for it: ``settings.CORE_PARAMS``)."""
    core = {k: v for k, v in params.items() if k in CORE_PARAMS.get(c.kind, {}) and k not in c.cls.defaults}
    return {k: v for k, v in params.items() if k not in core}, core


def build_discriminator(c: Component, config: RunConfig, spec: DataSpec) -> Discriminator:
    """Check the discriminator against the data, then build it (spectrally normalised if asked)."""
    check_serves(c, spec)
    own, core = own_params(c, config.params["discriminator"])
    d: Discriminator = _construct(c, network_spec(spec, config.train.conditional), **own)
    normalise = core.get("spectral_norm", False)  # checked when the run was planned (check_params)
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
    """Both networks for ``spec`` (the generator first, so seeded weights do not depend on D). The run's
    validation (``training.launch.build``) has checked the pair against the data already."""
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
    labels = probe_labels(config, 2)
    for c, net in ((components.generator, g), (components.discriminator, d)):
        given = (2, config.train.latent_dim) if c.kind == "generator" else want
        # A layer the user sized 0 builds but cannot run: say which parameter, not torch's words.
        not_positive = _not_positive(c, config.params.get(c.kind, {}))
        try:
            with eval_mode(net), torch.no_grad():
                out = net(torch.zeros(given), *labels)
        except Exception as exc:
            if not_positive is not None:
                raise UsageError(not_positive) from exc
            raise PluginError(
                f"The {c.kind} '{c.name}' ({c.origin}) failed on a batch of shape {given}: "
                f"{type(exc).__name__}: {first_line(exc)}."
            ) from exc
        # D may return (N,) or (N, 1): the trainer flattens (N, 1) where the logits enter the loss.
        ok = tuple(out.shape) == want if c.kind == "generator" else tuple(out.shape) in D_SHAPES
        if not ok and not_positive is not None:
            raise UsageError(not_positive)
        if not ok:
            expected = (
                f"(N, {', '.join(map(str, spec.shape))})"
                if c.kind == "generator"
                else "(N,) or (N, 1) logits, one a sample"
            )
            raise PluginError(
                f"The {c.kind} '{c.name}' ({c.origin}) returned a tensor of shape {tuple(out.shape)} for a "
                f"batch of 2; it must return {expected}."
            )
    if config.params.get("loss", {}).get("acgan", 0.0):
        c = components.discriminator
        try:
            with eval_mode(d), torch.no_grad():
                out = d.classify(torch.zeros(want))  # type: ignore[operator]
        except Exception as exc:
            raise PluginError(
                f"The discriminator '{c.name}' ({c.origin}) classify() failed on a batch of shape {want}: "
                f"{type(exc).__name__}: {first_line(exc)}."
            ) from exc
        classes = len(spec.classes)
        if not isinstance(out, torch.Tensor) or tuple(out.shape) != (2, classes):
            shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
            raise PluginError(
                f"The discriminator '{c.name}' ({c.origin}) classify() returned {shape} for a batch of 2; "
                f"it must return (N, {classes}) class logits."
            )


def probe_labels(config: RunConfig, n: int) -> tuple[torch.Tensor, ...]:
    """The extra arguments of a probe's call: ``n`` zero labels in a conditional run, else none."""
    return (torch.zeros(n, dtype=torch.long),) if config.train.conditional else ()


def build_loss(c: Component, config: RunConfig) -> Loss:
    """The loss, built with its own hyperparameters (R1/R2 are the trainer's, not the loss's)."""
    own, _ = own_params(c, config.params["loss"])
    loss: Loss = _construct(c, **own)
    return loss
