"""The sine fit of the sine dataset's eval figures: exact sines, noise, noisy sines, bad input."""

from __future__ import annotations

import math

import pytest
import torch

from ganzoo.errors import MetricsError
from ganzoo.plugins.sine_fit import sine_fit, sine_fit_params

SINE_T = torch.arange(50, dtype=torch.float64) / 10


def rng(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def sines(n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Curves like the ganzoo sine data: sin(offset + x·mul), offset ~ U[0,100), mul ~ U[1,2)."""
    g = rng(seed)
    offset = torch.rand(n, 1, generator=g, dtype=torch.float64) * 100
    mul = torch.rand(n, 1, generator=g, dtype=torch.float64) + 1
    return torch.sin(offset + SINE_T * mul).to(torch.float32), mul.squeeze(1)


def test_exact_sines_fit_with_no_residual_and_recover_their_frequency() -> None:
    curves, mul = sines(500, seed=26)
    residual, omega = sine_fit_params(curves, SINE_T)
    assert residual.shape == (500,)
    assert float(residual.max()) < 1e-3
    grid_step = 2.5 / 399
    assert float((omega - mul).abs().max()) < grid_step
    torch.testing.assert_close(sine_fit(curves, SINE_T), residual)


def test_noise_fits_with_a_residual_near_its_std() -> None:
    noise = torch.randn(500, 50, generator=rng(27)) * 0.5
    residual = sine_fit(noise, SINE_T.tolist())
    assert 0.4 < float(residual.mean()) < 0.5


def test_noisy_sines_fit_with_the_noise_as_residual() -> None:
    curves, _ = sines(500, seed=28)
    noisy = curves + torch.randn(curves.shape, generator=rng(29)) * 0.05
    assert 0.04 < float(sine_fit(noisy, SINE_T).mean()) < 0.05


def test_unusable_curves_are_refused() -> None:
    x = torch.randn(100, 8, generator=rng(1))
    x[3, 0] = math.nan
    x[50, 1:3] = math.inf
    with pytest.raises(MetricsError, match="2 of 100 rows with NaN or infinite values"):
        sine_fit(x, torch.arange(8.0))
    with pytest.raises(MetricsError, match="sample positions t must have shape"):
        sine_fit(torch.zeros(4, 50), torch.arange(49.0))


def test_the_phase_of_exact_sines_is_recovered() -> None:
    from ganzoo.plugins.sine_fit import sine_phase

    g = rng(3)
    offset = torch.rand(200, 1, generator=g, dtype=torch.float64) * 100
    mul = torch.rand(200, 1, generator=g, dtype=torch.float64) + 1
    curves = torch.sin(offset + SINE_T * mul)
    _, omega = sine_fit_params(curves, SINE_T)
    amplitude, phase = sine_phase(curves, SINE_T, omega)
    assert torch.allclose(amplitude, torch.ones(200, dtype=torch.float64), atol=1e-3)
    gap = torch.remainder(phase - offset.squeeze(1), 2 * math.pi)
    assert float(torch.minimum(gap, 2 * math.pi - gap).max()) < 1e-2


def test_ks_distance_is_zero_for_one_sample_and_one_for_disjoint_ones() -> None:
    from ganzoo.plugins.sine_fit import ks_distance

    x = torch.rand(500, generator=rng(4))
    assert ks_distance(x, x) == 0.0 and ks_distance(x, x + 2) == 1.0
    assert 0.4 < ks_distance(x, x + 0.5) < 0.6
