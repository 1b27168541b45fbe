"""zoo.toml recipes plus command-line overrides → one resolved, validated run configuration.

Precedence, lowest first: component defaults, the recipe, explicit options, ``--set KEY=VALUE``.
"""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from ganzoo.errors import RecipeError, UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROLES = ("generator", "discriminator", "dataset", "loss")
RECIPE_KEYS = {"summary", "source", *ROLES, "train", "params"}
PRIORS = ("normal", "uniform", "uniform01")
OPTIMIZERS = ("adam", "sgd", "rmsprop")
D_UPDATES = ("split", "joint", "concat", "mixed")
DATA_ORDERS = ("random", "shuffle", "sequential")
PRECISIONS = ("fp32", "bf16", "fp16")
MEMORY_FORMATS = ("auto", "channels_last", "contiguous")


@dataclass
class TrainSettings:
    """How to train: every key may appear in a recipe's [NAME.train] table or in ``--set``."""

    iterations: int = 10000
    epochs: float | None = None  # when set, overrides iterations: epochs × (train size / batch)
    batch_size: int = 128
    latent_dim: int = 100
    prior: str = "normal"
    optimizer_g: str = "adam"
    lr_g: float = 0.0002
    betas_g: list[float] = field(default_factory=lambda: [0.5, 0.999])
    momentum_g: float = 0.0
    nesterov_g: bool = False
    optimizer_d: str = "adam"
    lr_d: float = 0.0002
    betas_d: list[float] = field(default_factory=lambda: [0.5, 0.999])
    momentum_d: float = 0.0
    nesterov_d: bool = False
    d_steps: int = 1
    d_update: str = "joint"
    reuse_fake: bool = True
    data_order: str = "random"
    seed: int | None = None
    device: str = "auto"
    sample_every: int = 1000
    samples: int = 64
    checkpoint_every: int = 1000
    on_nan: str = "stop"  # stop: end the run at the logged step that shows it; skip: skip that update
    keep_checkpoints: int = 1  # also keep the K - 1 checkpoints before the latest, as state-STEP files
    log_every: int = 100
    # A moving average of G's weights, used for sampling and eval (Karras et al. 2018); None: off.
    ema: float | None = None
    # Evaluate (``ganzoo eval``'s figures) every N iterations and at the end; None: never.
    eval_every: int | None = None
    eval_n: int = 10000
    # Speed: autocast dtype for the forward passes (fp16 adds a GradScaler), torch.compile of both
    # networks, the memory layout of image batches, and SyncBatchNorm under torchrun (CUDA only).
    precision: str = "fp32"
    compile: bool = False
    memory_format: str = "auto"
    sync_bn: bool = False
    # Also write the figures and sample grids as TensorBoard events into RUN/tensorboard.
    tensorboard: bool = False

    def validate(self) -> None:
        positive = (
            "iterations",
            "batch_size",
            "latent_dim",
            "d_steps",
            "sample_every",
            "samples",
            "checkpoint_every",
            "keep_checkpoints",
            "log_every",
            "eval_n",
        )
        for name in positive:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise UsageError(f"{_opt(name)} must be a positive whole number, got {value!r}.")
        for name in ("lr_g", "lr_d"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not value > 0:
                raise UsageError(f"{_opt(name)} must be a positive number, got {value!r}.")
        if self.epochs is not None and not (isinstance(self.epochs, (int, float)) and self.epochs > 0):
            raise UsageError(f"--epochs must be a positive number, got {self.epochs!r}.")
        if self.ema is not None and not (
            isinstance(self.ema, (int, float)) and not isinstance(self.ema, bool) and 0 < self.ema < 1
        ):
            raise UsageError(f"--ema must be a decay between 0 and 1 (like 0.999), got {self.ema!r}.")
        if self.eval_every is not None and not (
            isinstance(self.eval_every, int) and not isinstance(self.eval_every, bool) and self.eval_every > 0
        ):
            raise UsageError(f"--eval-every must be a positive whole number, got {self.eval_every!r}.")
        _choice("on_nan", self.on_nan, ("stop", "skip"))
        _choice("prior", self.prior, PRIORS)
        _choice("optimizer_g", self.optimizer_g, OPTIMIZERS)
        _choice("optimizer_d", self.optimizer_d, OPTIMIZERS)
        _choice("d_update", self.d_update, D_UPDATES)
        _choice("data_order", self.data_order, DATA_ORDERS)
        _choice("precision", self.precision, PRECISIONS)
        _choice("memory_format", self.memory_format, MEMORY_FORMATS)
        for name in ("compile", "sync_bn", "tensorboard"):
            if not isinstance(getattr(self, name), bool):
                raise UsageError(f"{_opt(name)} must be true or false, got {getattr(self, name)!r}.")
        for name in ("betas_g", "betas_d"):
            betas = getattr(self, name)
            if not (isinstance(betas, list) and len(betas) == 2 and all(0 <= b < 1 for b in betas)):
                raise UsageError(f"{name} must be two numbers in [0, 1), got {betas!r}.")
        if self.seed is not None and (not isinstance(self.seed, int) or self.seed < 0):
            raise UsageError(f"--seed must be a non-negative whole number, got {self.seed!r}.")


TRAIN_KEYS = {f.name for f in fields(TrainSettings)}


@dataclass
class RunConfig:
    """Everything needed to rebuild a run: components by name, their parameters, training settings."""

    generator: str
    discriminator: str
    dataset: str
    loss: str
    recipe: str | None = None
    params: dict[str, dict[str, Any]] = field(default_factory=lambda: {r: {} for r in ROLES})
    train: TrainSettings = field(default_factory=TrainSettings)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> RunConfig:
        known = {k: v for k, v in d["train"].items() if k in TRAIN_KEYS}
        return cls(
            d["generator"],
            d["discriminator"],
            d["dataset"],
            d["loss"],
            d.get("recipe"),
            {r: dict(d.get("params", {}).get(r, {})) for r in ROLES},
            TrainSettings(**known),
        )


@dataclass
class Recipe:
    """One table of zoo.toml."""

    name: str
    summary: str
    source: str
    components: dict[str, str]
    train: dict[str, Any]
    params: dict[str, dict[str, Any]]
    path: Path


def zoo_paths() -> list[Path]:
    """The zoo.toml files read, in order: the packaged one, then ``$GANZOO_ZOO`` if set."""
    here = Path(__file__).resolve().parent
    paths = [p for p in (here / "zoo.toml", here.parent / "zoo.toml") if p.is_file()][:1]
    if extra := os.environ.get("GANZOO_ZOO"):
        paths.append(Path(extra))
    return paths


def load_recipes(paths: list[Path] | None = None) -> dict[str, Recipe]:
    """Read and check every recipe; a later file's recipe replaces an earlier one of the same name."""
    recipes: dict[str, Recipe] = {}
    for path in zoo_paths() if paths is None else paths:
        recipes.update(parse_zoo(path))
    return recipes


def parse_zoo(path: Path) -> dict[str, Recipe]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise RecipeError(f"Cannot read recipes file {path}: {exc.strerror}.") from exc
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RecipeError(f"{path} is not valid TOML: {exc}.") from exc
    recipes = {}
    for name, table in doc.items():
        if not isinstance(table, dict):
            raise RecipeError(f"{path}, line {_line_of(text, name)}: '{name}' must be a table [{name}].")
        recipes[name] = _recipe(path, text, name, table)
    return recipes


def _recipe(path: Path, text: str, name: str, table: dict[str, Any]) -> Recipe:
    def fail(key: str, why: str) -> RecipeError:
        return RecipeError(
            f"{path}, line {_line_of(text, key.rpartition('.')[2], name)}: recipe '{name}' key '{key}' {why}."
        )

    for key in table:
        if key not in RECIPE_KEYS:
            raise fail(key, "is not a recipe key (expected one of " + ", ".join(sorted(RECIPE_KEYS)) + ")")
    missing = [r for r in ROLES if r != "loss" and r not in table]
    if missing:
        raise RecipeError(f"{path}: recipe '{name}' names no {missing[0]}.")
    train = table.get("train", {})
    for key in train:
        if key not in TRAIN_KEYS:
            raise fail(f"train.{key}", "is not a training setting")
    params = table.get("params", {})
    for role in params:
        if role not in ROLES:
            raise fail(f"params.{role}", "is not a component role (generator, discriminator, dataset, loss)")
    return Recipe(
        name=name,
        summary=str(table.get("summary", "")),
        source=str(table.get("source", "")),
        components={r: str(table[r]) for r in ROLES if r in table},
        train=dict(train),
        params={r: dict(params.get(r, {})) for r in ROLES},
        path=Path(path),
    )


def _line_of(text: str, key: str, table: str | None = None) -> int:
    """The line where ``key`` is set (after ``table``'s header when given), for error messages."""
    lines = text.splitlines()
    start = 0
    if table is not None:
        for i, line in enumerate(lines):
            if re.match(rf"^\s*\[\s*\"?{re.escape(table)}\"?\s*[.\]]", line):
                start = i
                break
    for i in range(start, len(lines)):
        if re.match(rf"^\s*\"?{re.escape(key)}\"?\s*[=.\]]", lines[i]) or re.search(
            rf"\[[^\]]*\b{re.escape(key)}\]", lines[i]
        ):
            return i + 1
    return start + 1


def find_recipe(recipes: dict[str, Recipe], arch: str, dataset: str) -> Recipe | None:
    """The recipe for an architecture/dataset pair, if the zoo has one."""
    for recipe in recipes.values():
        c = recipe.components
        if c.get("generator") == arch and c.get("discriminator") == arch and c.get("dataset") == dataset:
            return recipe
    return None


def parse_value(text: str) -> Any:
    """A ``--set`` value: TOML/JSON syntax when it parses (numbers, booleans, lists), else a string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        try:
            return json.loads(text)
        except ValueError:
            return text


def _opt(name: str) -> str:
    return "--" + name.replace("_", "-")


def _choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise UsageError(f"{name} must be one of {', '.join(choices)}, got {value!r}.")


# Keys a network's ``training`` dict may declare, and the TrainSettings field each one sets.
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


def resolve(
    arch: str,
    dataset: str,
    lookup: Any,
    *,
    recipe_name: str | None = None,
    generator: str | None = None,
    discriminator: str | None = None,
    loss: str | None = None,
    options: dict[str, Any] | None = None,
    sets: list[str] | tuple[str, ...] = (),
    recipes: dict[str, Recipe] | None = None,
) -> RunConfig:
    """Build the run configuration; ``lookup(kind, name)`` returns a registered component's class."""
    recipes = load_recipes() if recipes is None else recipes
    recipe: Recipe | None
    if recipe_name is not None:
        if recipe_name not in recipes:
            import difflib

            close = difflib.get_close_matches(recipe_name, list(recipes), n=3)
            hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            raise UsageError(f"Unknown recipe '{recipe_name}'.{hint} See `ganzoo list recipes`.")
        recipe = recipes[recipe_name]
    else:
        recipe = find_recipe(recipes, arch, dataset)
    names = {"generator": generator or arch, "discriminator": discriminator or arch, "dataset": dataset}
    g_cls = lookup("generator", names["generator"])
    d_cls = lookup("discriminator", names["discriminator"])
    names["loss"] = (
        loss or (recipe.components.get("loss") if recipe else None) or g_cls.train_defaults.get("loss", "bce")
    )
    classes = {
        "generator": g_cls,
        "discriminator": d_cls,
        "dataset": lookup("dataset", names["dataset"]),
        "loss": lookup("loss", names["loss"]),
    }

    train: dict[str, Any] = asdict(TrainSettings())
    train.update({_G_TRAINING[k]: v for k, v in g_cls.train_defaults.items() if k in _G_TRAINING})
    train.update({_D_TRAINING[k]: v for k, v in d_cls.train_defaults.items() if k in _D_TRAINING})
    params: dict[str, dict[str, Any]] = {r: dict(classes[r].defaults) for r in ROLES}
    if recipe is not None:
        train.update(recipe.train)
        for role in ROLES:
            if recipe.components.get(role) != names[role]:
                continue  # the recipe's parameters belong to a component the user replaced
            for key, value in recipe.params[role].items():
                if key not in params[role]:
                    raise RecipeError(
                        f"{recipe.path}: recipe '{recipe.name}' sets params.{role}.{key}, but the "
                        f"{role} '{names[role]}' declares no such hyperparameter "
                        f"(it has: {', '.join(sorted(params[role])) or 'none'})."
                    )
                params[role][key] = value
    explicit = {k: v for k, v in (options or {}).items() if v is not None}
    train.update(explicit)
    for item in sets:
        _apply_set(item, train, params, names)
        if item.partition("=")[0].strip().removeprefix("train.") == "iterations":
            explicit["iterations"] = True
    if "iterations" in explicit and "epochs" not in explicit:
        train["epochs"] = None  # asking for iterations overrides a recipe counted in epochs

    settings = TrainSettings(**train)
    settings.validate()
    return RunConfig(
        names["generator"],
        names["discriminator"],
        names["dataset"],
        names["loss"],
        recipe.name if recipe else None,
        params,
        settings,
    )


def _apply_set(
    item: str, train: dict[str, Any], params: dict[str, dict[str, Any]], names: dict[str, str]
) -> None:
    key, eq, raw = item.partition("=")
    key = key.strip().replace("-", "_")
    if not eq or not key:
        raise UsageError(f"--set takes KEY=VALUE, got '{item}'.")
    value = parse_value(raw.strip())
    role, dot, short = key.partition(".")
    if dot:
        if role == "train":
            role = ""
        elif role not in ROLES:
            raise UsageError(f"--set {key}: '{role}' is not one of train, {', '.join(ROLES)}.")
    else:
        short = key
    if (not dot or role == "") and short in TRAIN_KEYS:
        train[short] = value
        return
    roles = [role] if dot and role else [r for r in ROLES if short in params[r]]
    roles = [r for r in roles if short in params[r]]
    if not roles:
        import difflib

        known = sorted(TRAIN_KEYS | {k for r in ROLES for k in params[r]})
        close = difflib.get_close_matches(short, known, n=3)
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise UsageError(f"--set {key}: no training setting or component hyperparameter has that name.{hint}")
    for r in roles:
        params[r][short] = value
