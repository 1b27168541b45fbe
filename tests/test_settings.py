"""The settings schema: each setting's bounds in one sentence, and the one precedence function."""

from __future__ import annotations

import math

import pytest

from ganzoo import settings
from ganzoo.errors import UsageError
from ganzoo.settings import TrainSettings, check, layered


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("batch_size", 0, "--batch-size must be a positive whole number, got 0."),
        ("batch_size", 2.5, "--batch-size must be a positive whole number, got 2.5."),
        ("batch_size", True, "--batch-size must be a positive whole number, got True."),
        ("lr_g", 0.0, "--lr-g must be a positive number, got 0.0."),
        ("lr_g", math.inf, "--lr-g must be a positive number, got inf."),
        ("lr_d", math.nan, "--lr-d must be a positive number, got nan."),
        ("epochs", math.inf, "--epochs must be a positive number, got inf."),
        ("momentum_g", -0.1, "momentum_g must be a non-negative number, got -0.1."),
        ("seed", 2**32, "--seed must be a whole number from 0 to 2^32 - 1"),
        ("seed", -1, "--seed must be a whole number from 0 to 2^32 - 1"),
        ("ema", 1.0, "--ema must be a decay between 0 and 1 (like 0.999), got 1.0."),
        ("eval_n", 1, "eval_n must be a whole number of at least 2, got 1."),
        ("prior", "cauchy", "prior must be one of normal, uniform, uniform01, got 'cauchy'."),
        ("compile", "yes", "--compile must be true or false, got 'yes'."),
        ("betas_g", ["a", "b"], "betas_g must be two numbers in [0, 1), got ['a', 'b']."),
        ("betas_d", [0.5, 1.0], "betas_d must be two numbers in [0, 1)"),
        ("report", "tb", "--report must be a list of names, got 'tb'."),
    ],
)
def test_a_value_out_of_bounds_is_one_sentence_naming_the_option(
    name: str, value: object, message: str
) -> None:
    with pytest.raises(UsageError) as err:
        check(name, value)
    assert str(err.value).startswith(message)


def test_the_defaults_and_every_bound_agree() -> None:
    TrainSettings().validate()
    for name in settings.FIELDS:
        if settings.optional(name):
            check(name, None)


def test_a_setting_is_named_by_its_option_only_where_it_has_one() -> None:
    assert settings.label("batch_size") == "--batch-size" and settings.label("d_update") == "d_update"
    options = [n for n, f in settings.FIELDS.items() if f.metadata["option"]]
    assert {"iterations", "epochs", "batch_size", "device", "seed", "threads", "report"} <= set(options)


def test_a_higher_layer_wins_and_not_given_never_hides_a_lower_one() -> None:
    out = layered(
        [("defaults", {"batch_size": 128, "device": "auto"}), ("cli", {"batch_size": 64, "device": None})]
    )
    assert out == {"batch_size": 64, "device": "auto"}


def test_iterations_above_a_layer_counted_in_epochs_replace_the_epochs() -> None:
    recipe = [("defaults", {"iterations": 100, "epochs": None}), ("recipe", {"epochs": 3})]
    assert layered(recipe)["epochs"] == 3
    assert layered([*recipe, ("cli", {"iterations": 50})]) == {"iterations": 50, "epochs": None}
    # epochs above iterations: epochs win when counted (the trainer's rule), nothing is cleared
    assert layered([("recipe", {"iterations": 50}), ("cli", {"epochs": 2})]) == {
        "iterations": 50,
        "epochs": 2,
    }


def test_which_settings_a_resume_may_change() -> None:
    free = {n for n, f in settings.FIELDS.items() if f.metadata["resume"]}
    assert {"iterations", "epochs", "device", "threads", "sample_every", "log_every"} <= free
    assert not free & {
        "batch_size",
        "seed",
        "lr_g",
        "lr_d",
        "d_update",
        "prior",
        "latent_dim",
        "ema",
        "precision",
    }
