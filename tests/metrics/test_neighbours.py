"""k-NN precision and recall: identical sets, a collapsed generator, far-away samples."""

from __future__ import annotations

from collections.abc import Callable

import torch

from ganzoo.metrics import (
    precision_recall,
)


def test_precision_and_recall_of_identical_sets_are_one(normal: Callable[..., torch.Tensor]) -> None:
    x = normal(1500, 16, seed=20)
    assert precision_recall(x, x.clone()) == (1.0, 1.0)


def test_a_collapsed_generator_has_high_precision_and_low_recall(rng: Callable[..., torch.Generator]) -> None:
    g = rng(21)
    centres = torch.randn(10, 4, generator=g) * 10
    labels = torch.arange(2000) % 10
    real = centres[labels] + torch.randn(2000, 4, generator=g)
    # The fake set is exactly one of the ten real clusters: all realistic, a tenth of the variety.
    assert precision_recall(real, real[labels == 0]) == (1.0, 0.1)
    # Fresh samples of that one cluster: nearly all realistic, still a tenth of the variety at most.
    precision, recall = precision_recall(real, centres[0] + torch.randn(500, 4, generator=g))
    assert precision > 0.9
    assert recall < 0.12


def test_fake_samples_far_away_have_no_precision_or_recall(normal: Callable[..., torch.Tensor]) -> None:
    real, fake = normal(1000, 8, seed=22), normal(1000, 8, seed=23, shift=20.0)
    assert precision_recall(real, fake) == (0.0, 0.0)
