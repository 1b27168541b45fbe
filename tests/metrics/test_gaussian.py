"""The Fréchet distance: known cases, closed forms, scipy's sqrtm, streamed statistics."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import scipy.linalg
import torch

from ganzoo.metrics import (
    Gaussian,
    RunningGaussian,
    frechet_distance,
    gaussian_stats,
)


def random_cov(d: int, seed: int) -> torch.Tensor:
    a = torch.randn(d, 2 * d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return a @ a.T / (2 * d) + 0.1 * torch.eye(d, dtype=torch.float64)


def test_frechet_of_identical_features_is_zero(normal: Callable[..., torch.Tensor]) -> None:
    stats = gaussian_stats(normal(2000, 32) * 3 + 5)
    scale = float(torch.trace(stats.cov))
    assert frechet_distance(stats, stats) < 1e-6 * scale


def test_frechet_of_identical_singular_covariances_is_zero(normal: Callable[..., torch.Tensor]) -> None:
    # n < D: a rank-deficient covariance, where a non-symmetric sqrtm goes complex.
    stats = gaussian_stats(normal(50, 200))
    assert frechet_distance(stats, stats) < 1e-6 * float(torch.trace(stats.cov))


def test_frechet_of_shifted_unit_gaussians_is_the_squared_shift(normal: Callable[..., torch.Tensor]) -> None:
    shift = torch.tensor([1.0, -0.5, 0.8, 0.0, 0.3, -1.0, 0.2, 0.5])
    a = gaussian_stats(normal(5000, 8, seed=1))
    b = gaussian_stats(normal(5000, 8, seed=2) + shift)
    expected = float(shift @ shift)
    assert frechet_distance(a, b) == pytest.approx(expected, rel=0.05)


def test_frechet_matches_the_closed_form_for_diagonal_covariances(
    rng: Callable[..., torch.Generator],
) -> None:
    g = rng(3)
    var_a = torch.rand(16, generator=g, dtype=torch.float64) * 4 + 0.1
    var_b = torch.rand(16, generator=g, dtype=torch.float64) * 4 + 0.1
    mu_a, mu_b = torch.randn(16, generator=g, dtype=torch.float64), torch.randn(16, generator=g).double()
    a, b = Gaussian(mu_a, torch.diag(var_a), 100), Gaussian(mu_b, torch.diag(var_b), 100)
    expected = float((mu_a - mu_b).square().sum() + (var_a.sqrt() - var_b.sqrt()).square().sum())
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-10)


def test_frechet_matches_scipy_sqrtm_on_full_covariances(rng: Callable[..., torch.Generator]) -> None:
    d = 40
    cov_a, cov_b = random_cov(d, 4), random_cov(d, 5)
    mu_a = torch.randn(d, generator=rng(6), dtype=torch.float64)
    mu_b = torch.randn(d, generator=rng(7), dtype=torch.float64)
    covmean = scipy.linalg.sqrtm(cov_a.numpy() @ cov_b.numpy())
    expected = float(
        (mu_a - mu_b).square().sum()
        + torch.trace(cov_a)
        + torch.trace(cov_b)
        - 2 * float(covmean.trace().real)
    )
    got = frechet_distance(Gaussian(mu_a, cov_a, 1000), Gaussian(mu_b, cov_b, 1000))
    assert got == pytest.approx(expected, rel=1e-8)
    assert frechet_distance(Gaussian(mu_b, cov_b, 1000), Gaussian(mu_a, cov_a, 1000)) == pytest.approx(got)


def test_running_gaussian_over_chunks_equals_gaussian_stats(normal: Callable[..., torch.Tensor]) -> None:
    # A large common offset: the one-pass sum of outer products would lose digits here.
    features = normal(1000, 12, seed=8) * 0.01 + 1e4
    features = features.double()
    running = RunningGaussian()
    for chunk in torch.split(features, [1, 99, 300, 17, 583]):
        running.update(chunk)
    got, want = running.result(), gaussian_stats(features)
    assert got.n == want.n == 1000
    torch.testing.assert_close(got.mean, want.mean, rtol=1e-12, atol=0)
    torch.testing.assert_close(got.cov, want.cov, rtol=1e-8, atol=1e-14)
    torch.testing.assert_close(want.cov, torch.cov(features.T), rtol=1e-8, atol=1e-14)
