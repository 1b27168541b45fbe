"""KID and the RBF MMD: near zero for one distribution, larger for two, repeatable."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from ganzoo.metrics import (
    kernel_inception_distance,
    mmd_rbf,
)


def test_kid_is_near_zero_for_one_distribution_and_clearly_larger_for_a_shifted_one(
    normal: Callable[..., torch.Tensor], rng: Callable[..., torch.Generator]
) -> None:
    x = normal(5000, 16, seed=9)
    same_mean, same_std = kernel_inception_distance(x, x, subsets=50, subset_size=100, generator=rng())
    assert abs(same_mean) < same_std / 2
    real, fake = x[:2500], x[2500:]
    sample_mean, sample_std = kernel_inception_distance(real, fake, 50, 100, rng())
    assert abs(sample_mean) < sample_std / 2
    shifted_mean, _ = kernel_inception_distance(real, fake + 0.5, 50, 100, rng())
    assert shifted_mean > 10 * sample_std


def test_kid_repeats_with_a_seeded_generator_and_caps_the_subset_size(
    normal: Callable[..., torch.Tensor], rng: Callable[..., torch.Generator]
) -> None:
    x, y = normal(300, 8, seed=11), normal(200, 8, seed=12, shift=0.2)
    first = kernel_inception_distance(x, y, subsets=5, subset_size=1000, generator=rng(4))
    assert first == kernel_inception_distance(x, y, subsets=5, subset_size=1000, generator=rng(4))
    assert first == kernel_inception_distance(x, y, subsets=5, subset_size=200, generator=rng(4))
    assert first != kernel_inception_distance(x, y, subsets=5, subset_size=1000, generator=rng(5))


def test_kid_of_one_full_subset_is_the_unbiased_mmd_with_the_cubic_kernel(
    normal: Callable[..., torch.Tensor],
) -> None:
    x, y = normal(30, 4, seed=13).double(), normal(30, 4, seed=14, shift=0.3).double()
    k_xx, k_yy, k_xy = ((a @ b.T / 4 + 1) ** 3 for a, b in ((x, x), (y, y), (x, y)))
    off = (k_xx.sum() - k_xx.trace() + k_yy.sum() - k_yy.trace()) / (30 * 29)
    expected = float(off - 2 * k_xy.mean())
    mean, std = kernel_inception_distance(x, y, subsets=3, subset_size=30)
    assert mean == pytest.approx(expected, rel=1e-10) and std == pytest.approx(0, abs=1e-12)


def test_mmd_rbf_is_near_zero_for_one_distribution_and_positive_for_different_ones(
    normal: Callable[..., torch.Tensor],
) -> None:
    x, y = normal(800, 8, seed=15), normal(800, 8, seed=16)
    same = mmd_rbf(x, y)
    different = mmd_rbf(x, normal(800, 8, seed=17, shift=0.5))
    assert abs(same) < 0.005
    assert different > 0.05
    assert mmd_rbf(x, y, bandwidth=2.0) == pytest.approx(mmd_rbf(x, y, bandwidth=2.0))


def test_mmd_rbf_subsamples_large_sets_repeatably(
    normal: Callable[..., torch.Tensor], rng: Callable[..., torch.Generator]
) -> None:
    x, y = normal(600, 4, seed=18), normal(600, 4, seed=19, shift=1.0)
    capped = mmd_rbf(x, y, max_samples=200, generator=rng(1))
    assert capped == mmd_rbf(x, y, max_samples=200, generator=rng(1))
    assert capped == pytest.approx(mmd_rbf(x, y), rel=0.3)
