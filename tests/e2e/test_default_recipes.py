"""Every default recipe (the one `ganzoo train ARCH DATASET` runs) trains end to end, seeded, on
the committed real-image fixtures: a short run of the recipe's own settings, then `ganzoo eval`."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from ganzoo import api
from ganzoo.recipes import find_recipe, load_recipes

pytestmark = pytest.mark.slow

FIXTURES = Path(__file__).parents[1] / "fixtures"
DEFAULTS = sorted(r.name for r in load_recipes().values() if r.default)


def test_every_pair_with_a_default_recipe_runs_it() -> None:
    recipes = load_recipes()
    assert {
        "vanilla-mlp-mnist",
        "vanilla-mlp-fashion-mnist",
        "dcgan-mnist",
        "dcgan-fashion-mnist",
        "sine-1d-sine",
    } <= set(DEFAULTS)
    for name in DEFAULTS:
        c = recipes[name].components
        conditional = recipes[name].conditional  # chosen by --conditional
        assert find_recipe(recipes, c["generator"], c["dataset"], conditional) is recipes[name]


@pytest.mark.parametrize("name", DEFAULTS)
def test_a_short_seeded_run_of_each_default_recipe_trains_and_is_measured(tmp_path: Path, name: str) -> None:
    recipe = load_recipes()[name]
    dataset = recipe.components["dataset"]
    data_dir = FIXTURES / dataset if (FIXTURES / dataset).is_dir() else None
    run = api.train(
        recipe.components["generator"],
        dataset,
        out=tmp_path / "run",
        data_dir=data_dir,
        iterations=8,
        seed=0,
        device="cpu",
        sample_every=4,
        checkpoint_every=4,
        conditional=recipe.conditional,
    )
    assert run.record.config.recipe == name and run.steps == 8
    assert all(math.isfinite(v) for v in run.last.values())
    figures = api.evaluate(run.run_dir, n=64, batch_size=32)["metrics"]
    assert all(math.isfinite(v) for v in figures.values() if isinstance(v, float))
