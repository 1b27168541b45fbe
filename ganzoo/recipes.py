"""zoo.toml: the zoo's recipes, one table per experiment, read and checked line by line.

A recipe names its components and sets training settings and component hyperparameters;
:mod:`ganzoo.resolve` stacks it with the other layers of settings into one run configuration.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ganzoo import env, settings
from ganzoo.errors import RecipeError, UsageError
from ganzoo.settings import KINDS, TRAIN_KEYS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

RECIPE_KEYS = {"summary", "source", "default", *KINDS, "train", "params"}


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
    #: ``ganzoo train ARCH DATASET`` runs this recipe for its pair (``default = true`` in zoo.toml).
    default: bool = False

    @property
    def conditional(self) -> bool:
        """Its runs condition on the data's classes (``conditional = true`` in its train table)."""
        return self.train.get("conditional") is True


def zoo_paths() -> list[Path]:
    """The zoo.toml files read, in order: the packaged one, then ``$GANZOO_ZOO`` if set."""
    here = Path(__file__).resolve().parent
    paths = [p for p in (here / "zoo.toml", here.parent / "zoo.toml") if p.is_file()][:1]
    if extra := env.ZOO.path():
        paths.append(extra)
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
    seen: dict[tuple[str, ...], str] = {}
    for recipe in recipes.values():
        if recipe.default:
            pair = tuple(recipe.components.get(k, "") for k in ("generator", "discriminator", "dataset"))
            pair += ("conditional",) if recipe.conditional else ()
            if pair in seen:
                what = "conditional runs of " if recipe.conditional else ""
                raise RecipeError(
                    f"{path}: recipes '{seen[pair]}' and '{recipe.name}' are both the default for "
                    f"{what}{pair[0]} on {pair[2]}; keep `default = true` on one."
                )
            seen[pair] = recipe.name
    return recipes


def _recipe(path: Path, text: str, name: str, table: dict[str, Any]) -> Recipe:
    def fail(key: str, why: str) -> RecipeError:
        return RecipeError(
            f"{path}, line {_line_of(text, key.rpartition('.')[2], name)}: recipe '{name}' key '{key}' {why}."
        )

    for key in table:
        if key not in RECIPE_KEYS:
            raise fail(key, "is not a recipe key (expected one of " + ", ".join(sorted(RECIPE_KEYS)) + ")")
    missing = [k for k in KINDS if k != "loss" and k not in table]
    if missing:
        raise RecipeError(f"{path}: recipe '{name}' names no {missing[0]}.")
    train = table.get("train", {})
    for key, value in train.items():
        if key not in TRAIN_KEYS:
            raise fail(f"train.{key}", "is not a training setting")
        try:
            settings.check(key, value, shown="it")
        except UsageError as exc:
            raise fail(f"train.{key}", str(exc).removeprefix("it ").rstrip(".")) from exc
    params = table.get("params", {})
    for kind in params:
        if kind not in KINDS:
            raise fail(f"params.{kind}", "is not a component kind (generator, discriminator, dataset, loss)")
    return Recipe(
        name=name,
        default=_flag(table.get("default", False), fail),
        summary=str(table.get("summary", "")),
        source=str(table.get("source", "")),
        components={k: str(table[k]) for k in KINDS if k in table},
        train=dict(train),
        params={k: dict(params.get(k, {})) for k in KINDS},
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


def _flag(value: Any, fail: Any) -> bool:
    if not isinstance(value, bool):
        raise fail("default", "must be true or false")
    return value


def find_recipe(
    recipes: dict[str, Recipe], arch: str, dataset: str, conditional: bool = False
) -> Recipe | None:
    """The recipe ``ganzoo train ARCH DATASET`` runs: the pair's ``default = true`` one, else the
    first for the pair (a later zoo.toml's default replaces an earlier one's). Recipes whose train
    table says ``conditional = true`` are chosen by ``--conditional`` only, which falls back to the
    pair's unconditional recipe when it has none of them."""
    pair = [
        r
        for r in recipes.values()
        if r.components.get("generator") == arch
        and r.components.get("discriminator") == arch
        and r.components.get("dataset") == dataset
    ]
    if conditional and any(r.conditional for r in pair):
        pair = [r for r in pair if r.conditional]
    else:
        pair = [r for r in pair if not r.conditional]
    defaults = [r for r in pair if r.default]
    if defaults:
        return defaults[-1]
    return pair[0] if pair else None
