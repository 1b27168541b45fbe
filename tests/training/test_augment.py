"""DiffAugment: differentiable, shape and range kept, repeatable from its generator, and in a run."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch

from ganzoo.errors import UsageError
from ganzoo.settings import check
from ganzoo.training.augment import augmenter, color, cutout, policy, translation


def images(n: int = 6, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, 3, 16, 16, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def gen(seed: int = 1) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("text", ["color", "translation", "cutout", "color,translation,cutout"])
def test_each_policy_keeps_shape_and_range_and_is_differentiable(text: str) -> None:
    augment = augmenter(text, gen(), (-1.0, 1.0))
    assert augment is not None
    x = images().requires_grad_(True)
    y = augment(x)
    assert y.shape == x.shape and float(y.min()) >= -1 and float(y.max()) <= 1
    assert not torch.equal(y, x.detach())
    y.square().sum().backward()
    assert x.grad is not None and bool(x.grad.abs().sum() > 0)


def test_the_same_generator_state_gives_the_same_augmentation() -> None:
    a = augmenter("color,translation,cutout", gen(5), (-1.0, 1.0))
    b = augmenter("color,translation,cutout", gen(5), (-1.0, 1.0))
    assert a is not None and b is not None and torch.equal(a(images()), b(images()))


def test_translation_moves_pixels_and_fills_with_zeros() -> None:
    x = torch.ones(64, 1, 8, 8)
    y = translation(x, gen())
    shifted = (y == 0).flatten(1).any(dim=1)
    assert bool(shifted.any()) and set(y.unique().tolist()) <= {0.0, 1.0}


def test_cutout_zeroes_one_square_of_half_the_side() -> None:
    y = cutout(torch.ones(32, 1, 16, 16), gen())
    zeros = (y == 0).flatten(1).sum(dim=1)
    assert int(zeros.max()) == 64 and int(zeros.min()) > 0  # an 8x8 square, cut by the edge at worst


def test_color_changes_brightness_saturation_and_contrast_within_the_range() -> None:
    y = color(images(), gen(), (0.0, 1.0))
    assert float(y.min()) >= 0 and float(y.max()) <= 1


def test_an_empty_policy_is_no_augmentation_and_unknown_ops_are_refused() -> None:
    assert augmenter("", gen(), (-1.0, 1.0)) is None and policy("cutout, color") == ("color", "cutout")
    with pytest.raises(
        UsageError, match="--augment must be a comma-separated list of color, translation, cutout"
    ):
        check("augment", "color,flip")


def test_an_augmented_run_trains_and_resumes_exactly(tmp_path: Path, train_short: Callable[..., Any]) -> None:
    from safetensors.torch import load_file

    from ganzoo import api

    train_short(tmp_path / "straight", iterations=30, augment="color,translation,cutout")
    train_short(tmp_path / "split", iterations=15, augment="color,translation,cutout")
    api.train(resume=tmp_path / "split", iterations=30)
    a, b = (load_file(str(tmp_path / r / "generator.safetensors")) for r in ("straight", "split"))
    assert all(torch.equal(a[k], b[k]) for k in a)
    record = json.loads((tmp_path / "straight" / "config.json").read_text())
    assert record["run"]["train"]["augment"] == "color,translation,cutout"
