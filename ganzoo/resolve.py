"""What the user asked for → one validated run configuration, through the layers of settings.

The layers, lowest first (:func:`ganzoo.settings.layered` applies them): the schema's and the
components' defaults, the zoo.toml recipe, the user's settings file, the environment, the command
line (options, then ``--set``). Component hyperparameters have three: the component's
``defaults``, the recipe's ``params``, ``--set``.
"""

from __future__ import annotations

import difflib
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ganzoo import env, settings, user_settings
from ganzoo.errors import PluginError, RecipeError, UsageError
from ganzoo.recipes import Recipe, find_recipe, load_recipes
from ganzoo.settings import KINDS, TRAIN_KEYS, RunConfig, TrainSettings

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

#: ``lookup(kind, name)`` → the registered component class.
Lookup = Callable[[str, str], Any]

# The short keys a network's ``train_defaults`` could declare before ganzoo 0.3 (still accepted),
# and the setting each one is on that network's side. Any component may use the settings' own names.
_G_TRAINING = {
    "latent_dim": "latent_dim",
    "prior": "prior",
    "optimizer": "optimizer_g",
    "lr": "lr_g",
    "betas": "betas_g",
    "momentum": "momentum_g",
    "nesterov": "nesterov_g",
    "batch_size": "batch_size",
}
_D_TRAINING = {
    "optimizer": "optimizer_d",
    "lr": "lr_d",
    "betas": "betas_d",
    "momentum": "momentum_d",
    "nesterov": "nesterov_d",
}


@dataclass
class Request:
    """A run as the user asked for it: names, command-line settings and ``--set`` items."""

    arch: str
    dataset: str
    recipe: str | None = None
    generator: str | None = None
    discriminator: str | None = None
    loss: str | None = None
    options: dict[str, Any] = field(default_factory=dict)  # training settings; None: not given
    sets: tuple[str, ...] = ()


def environment() -> dict[str, Any]:
    """The training settings the environment gives (``GANZOO_DEVICE``)."""
    device = env.DEVICE.get()
    return {"device": device} if device else {}


def sampling_device(explicit: str | None) -> str:
    """The device ``generate`` and ``eval`` use: ``--device``, else ``GANZOO_DEVICE``, else the CPU."""
    return explicit or env.DEVICE.get() or "cpu"


def command_line(options: dict[str, Any], set_values: dict[str, Any]) -> dict[str, Any]:
    """The command line's layer: the options given, then the ``--set`` training settings."""
    layer = {**{k: v for k, v in options.items() if v is not None}, **set_values}
    if layer.get("iterations") is not None and layer.get("epochs") is not None:
        raise UsageError("give --iterations or --epochs, not both.")
    return layer


def resolve(
    request: Request,
    lookup: Lookup,
    recipes: dict[str, Recipe] | None = None,
    notes: list[str] | None = None,
) -> RunConfig:
    """The run configuration for ``request``, validated; ``lookup`` finds the component classes.
    ``notes`` receives what the user should be told about how their request was read."""
    recipes = load_recipes() if recipes is None else recipes
    recipe = _recipe(request, recipes)
    names = {
        "generator": request.generator or request.arch,
        "discriminator": request.discriminator or request.arch,
        "dataset": request.dataset,
    }
    g_cls = lookup("generator", names["generator"])
    d_cls = lookup("discriminator", names["discriminator"])
    recipe_loss = recipe.components.get("loss") if recipe else None
    names["loss"] = request.loss or recipe_loss or g_cls.train_defaults.get("loss", "bce")
    classes = {
        **{k: lookup(k, names[k]) for k in ("dataset", "loss")},
        "generator": g_cls,
        "discriminator": d_cls,
    }

    # A component's own hyperparameters, and those ganzoo implements for every loss and D (R1/R2,
    # spectral normalisation) unless the component declares one of the same name itself.
    params: dict[str, dict[str, Any]] = {
        k: {**settings.CORE_PARAMS.get(k, {}), **classes[k].defaults} for k in KINDS
    }
    if recipe is not None:
        _recipe_params(recipe, names, params)
    set_train, set_params = parse_sets(request.sets, params)
    for kind, values in set_params.items():
        params[kind].update(values)
    # The networks' training defaults, then the loss's (wgan-gp's optimiser, rpgan's update order).
    component_defaults = {
        **component_training("generator", g_cls),
        **component_training("discriminator", d_cls),
        **component_training("loss", classes["loss"]),
    }
    user_layers = [
        ("user settings file", user_settings.train()),
        ("environment", environment()),
        ("command line", command_line(request.options, set_train)),
    ]
    train = settings.layered(
        [
            ("defaults", {**settings.defaults(), **component_defaults}),
            ("recipe", recipe.train if recipe else {}),
            *user_layers,
        ]
    )
    # A loss the user chose that compares real and fake logits together cannot train with an update
    # order of one batch at a time: the recipe's order yields (an order the user set still wins, and
    # is refused in one sentence when the run is built).
    order_set = any("d_update" in layer for _, layer in user_layers)
    pairwise = getattr(classes["loss"], "pairwise", False) and request.loss is not None
    if pairwise and not order_set and train["d_update"] not in settings.BOTH_BATCH_ORDERS:
        wanted = getattr(classes["loss"], "train_defaults", {}).get("d_update", "joint")
        if notes is not None:
            notes.append(
                f"note: the loss '{names['loss']}' compares real and fake logits together, so D "
                f"updates on both batches at once (d_update={wanted}, not the recipe's "
                f"{train['d_update']})."
            )
        train["d_update"] = wanted
    config = RunConfig(
        names["generator"],
        names["discriminator"],
        names["dataset"],
        names["loss"],
        recipe.name if recipe else None,
        params,
        TrainSettings(**train),
    )
    config.train.validate()
    return config


def component_training(kind: str, cls: Any) -> dict[str, Any]:
    """A component's ``train_defaults`` as training settings. Keys are the settings' names (``lr_g``,
    ``d_update``...) for every kind; a network may also use the short names of its own side
    (``lr`` is a generator's ``lr_g``), and a generator names its loss (``loss``, read by resolve).
    Any other key is refused in one sentence naming the class, not dropped."""
    short = {"generator": _G_TRAINING, "discriminator": _D_TRAINING}.get(kind, {})
    out = {}
    for key, value in getattr(cls, "train_defaults", {}).items():
        if kind == "generator" and key == "loss":
            continue
        name = short.get(key, key)
        if name not in TRAIN_KEYS:
            known = sorted(TRAIN_KEYS | set(short))
            close = difflib.get_close_matches(key, known, n=2)
            hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
            raise PluginError(
                f"The {kind} {cls.__module__}.{cls.__qualname__} declares train_defaults[{key!r}], which "
                f"is not a training setting{hint}; see `ganzoo train --help` for their names."
            )
        out[name] = value
    return out


def _recipe(request: Request, recipes: dict[str, Recipe]) -> Recipe | None:
    if request.recipe is None:
        conditional = _conditional_asked(request)
        return find_recipe(recipes, request.arch, request.dataset, conditional)
    if request.recipe not in recipes:
        close = difflib.get_close_matches(request.recipe, list(recipes), n=3)
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise UsageError(f"Unknown recipe '{request.recipe}'.{hint} See `ganzoo list recipes`.")
    return recipes[request.recipe]


def _conditional_asked(request: Request) -> bool:
    """Whether the run asks to be conditional, which picks the pair's conditional recipe: the
    command line (``--conditional``, then ``--set [train.]conditional=...``, the last one), else the
    user's settings file. (The recipe cannot say so: it is what is being chosen.)"""
    if request.options.get("conditional") is not None:
        return bool(request.options["conditional"])
    asked: bool | None = None
    for item in request.sets:
        key, sep, value = item.partition("=")
        if sep and key.strip().replace("-", "_").removeprefix("train.") == "conditional":
            asked = parse_value(value.strip()) is True
    if asked is not None:
        return asked
    return user_settings.train().get("conditional") is True


def _recipe_params(recipe: Recipe, names: dict[str, str], params: dict[str, dict[str, Any]]) -> None:
    for kind in KINDS:
        if recipe.components.get(kind) != names[kind]:
            continue  # the recipe's parameters belong to a component the user replaced
        for key, value in recipe.params[kind].items():
            if key not in params[kind]:
                raise RecipeError(
                    f"{recipe.path}: recipe '{recipe.name}' sets params.{kind}.{key}, but the "
                    f"{kind} '{names[kind]}' declares no such hyperparameter "
                    f"(it has: {', '.join(sorted(params[kind])) or 'none'})."
                )
            params[kind][key] = value


def parse_value(text: str) -> Any:
    """A ``--set`` value: TOML/JSON syntax when it parses (numbers, booleans, lists), else a string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        try:
            return json.loads(text)
        except ValueError:
            return text


def parse_sets(
    sets: tuple[str, ...] | list[str], params: dict[str, dict[str, Any]]
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """``--set`` items as (training settings, hyperparameters by component kind).

    ``KEY`` is a training setting, or a hyperparameter of every component that declares it;
    ``KIND.KEY`` (``generator.hidden``) reaches one component, ``train.KEY`` one setting.
    """
    train: dict[str, Any] = {}
    by_kind: dict[str, dict[str, Any]] = {}
    for item in sets:
        key, eq, raw = item.partition("=")
        key = key.strip().replace("-", "_")
        if not eq or not key:
            raise UsageError(f"--set takes KEY=VALUE, got {settings.brief(item)}.")
        value = parse_value(raw.strip())
        kind, dot, short = key.partition(".")
        if not dot:
            kind, short = "", key
        elif kind == "train":
            kind = ""
        elif kind not in KINDS:
            raise UsageError(f"--set {key}: '{kind}' is not one of train, {', '.join(KINDS)}.")
        if not kind and short in TRAIN_KEYS:
            train[short] = value
            continue
        kinds = [kind] if kind else list(KINDS)
        kinds = [k for k in kinds if short in params[k]]
        if not kinds:
            known = sorted(TRAIN_KEYS | {k for kind in KINDS for k in params[kind]})
            close = difflib.get_close_matches(short, known, n=3)
            hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            raise UsageError(
                f"--set {key}: no training setting or component hyperparameter has that name.{hint}"
            )
        for k in kinds:
            by_kind.setdefault(k, {})[short] = value
    return train, by_kind
