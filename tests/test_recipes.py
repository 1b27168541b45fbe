from __future__ import annotations

from pathlib import Path

import pytest

from ganzoo.errors import RecipeError
from ganzoo.recipes import load_recipes, parse_zoo


def test_the_shipped_zoo_parses() -> None:
    recipes = load_recipes()
    assert "seed-002-vanilla-mlp-mnist" in recipes
    assert recipes["seed-002-vanilla-mlp-mnist"].source == "002"


def test_a_syntax_error_names_the_line(tmp_path: Path) -> None:
    zoo = tmp_path / "zoo.toml"
    zoo.write_text('[a]\ngenerator = "x"\ndataset = \n')
    with pytest.raises(RecipeError, match=r"not valid TOML.*line 3"):
        parse_zoo(zoo)


def test_an_unknown_key_names_the_key_and_line(tmp_path: Path) -> None:
    zoo = tmp_path / "zoo.toml"
    zoo.write_text('[a]\ngenerator = "x"\ndiscriminator = "x"\ndataset = "y"\n\n[a.train]\nbatchsize = 3\n')
    with pytest.raises(
        RecipeError, match=r"line 7: recipe 'a' key 'train.batchsize' is not a training setting"
    ):
        parse_zoo(zoo)


def test_a_default_recipe_wins_for_its_pair_and_two_defaults_are_refused(tmp_path: Path) -> None:
    from ganzoo.recipes import find_recipe

    pair = 'generator = "vanilla-mlp"\ndiscriminator = "vanilla-mlp"\ndataset = "mnist"\n'
    zoo = tmp_path / "zoo.toml"
    zoo.write_text(f"[first]\n{pair}[best]\ndefault = true\n{pair}")
    recipes = parse_zoo(zoo)
    assert find_recipe(recipes, "vanilla-mlp", "mnist").name == "best"  # type: ignore[union-attr]
    zoo.write_text(f"[a]\ndefault = true\n{pair}[b]\ndefault = true\n{pair}")
    with pytest.raises(RecipeError, match="'a' and 'b' are both the default for vanilla-mlp on mnist"):
        parse_zoo(zoo)
    zoo.write_text(f"[a]\ndefault = 1\n{pair}")
    with pytest.raises(RecipeError, match="key 'default' must be true or false"):
        parse_zoo(zoo)


def test_conditional_picks_the_pairs_conditional_recipe_and_falls_back_to_the_plain_one() -> None:
    from ganzoo.recipes import find_recipe, load_recipes

    recipes = load_recipes()
    assert find_recipe(recipes, "dcgan", "mnist").name == "dcgan-mnist"  # type: ignore[union-attr]
    assert find_recipe(recipes, "dcgan", "mnist", conditional=True).name == "dcgan-mnist-conditional"  # type: ignore[union-attr]
    # No conditional recipe for the pair: --conditional conditions the pair's default.
    assert find_recipe(recipes, "dcgan", "cifar10", conditional=True).name == "dcgan-cifar10"  # type: ignore[union-attr]
    for r in recipes.values():
        if r.conditional:
            assert r.name.endswith("-conditional") and r.train["samples"] % 10 == 0
