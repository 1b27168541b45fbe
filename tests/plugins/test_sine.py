"""sine: seeded synthetic curves of the declared shape, each one a true sine."""

from __future__ import annotations

import math

import pytest
import torch

from ganzoo.errors import UsageError
from ganzoo.plugins.sine import Sine


def test_shape_range_and_spec() -> None:
    ds = Sine(n=500)
    x = ds.load("train")
    assert x.shape == (500, 50) and x.dtype == torch.float32
    assert x.min() >= -1.0 and x.max() <= 1.0 and x.min() < -0.99 and x.max() > 0.99
    assert ds.spec().shape == (50,) and ds.spec().kind == "sequence" and ds.spec().value_range == (-1.0, 1.0)
    assert ds.status().present and ds.status().where == "generated on the fly"


def test_defaults_and_points() -> None:
    assert Sine().load().shape == (10000, 50)
    ds = Sine(n=7, points=20)
    assert ds.spec().shape == (20,) and ds.load("test").shape == (7, 20)


def test_seeded_repeatability() -> None:
    a, b = Sine(n=64, seed=3), Sine(n=64, seed=3)
    assert torch.equal(a.load("train"), b.load("train"))
    assert torch.equal(a.load("test"), b.load("test"))
    assert not torch.equal(a.load("train"), a.load("test"))  # test uses seed + 1
    assert torch.equal(a.load("test"), Sine(n=64, seed=4).load("train"))
    assert not torch.equal(a.load("train"), Sine(n=64, seed=0).load("train"))


def test_every_curve_is_a_sine_with_mul_in_range() -> None:
    y = Sine(n=1000, seed=1).load().double()
    # A sampled sine obeys y[t+1] + y[t-1] = 2·cos(0.1·mul)·y[t]; solve for c = cos(0.1·mul) by least
    # squares per curve, then check the recurrence holds everywhere and mul lies in [1, 2).
    prev, mid, nxt = y[:, :-2], y[:, 1:-1], y[:, 2:]
    c = ((prev + nxt) * mid).sum(1) / (2 * (mid * mid).sum(1))
    assert torch.all((nxt + prev - 2 * c[:, None] * mid).abs() < 1e-4)
    mul = torch.acos(c.clamp(-1, 1)) / 0.1
    assert mul.min() >= 1.0 - 1e-3 and mul.max() < 2.0 + 1e-3
    assert mul.max() - mul.min() > 0.9  # the frequencies are spread over the range
    # And the first value is sin(offset): offsets spread over [0, 100) cover all phases.
    phases = torch.atan2(y[:, 0], (y[:, 1] - c * y[:, 0]) / torch.sin(0.1 * mul))
    assert phases.min() < -math.pi + 0.1 and phases.max() > math.pi - 0.1


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"n": 0}, "n to be a whole number of at least 1"),
        ({"points": 1.5}, "points"),
        ({"seed": "x"}, "seed"),
    ],
)
def test_bad_parameters(params: dict[str, object], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        Sine(**params)


def test_unknown_split() -> None:
    with pytest.raises(UsageError, match="no split 'valid'"):
        Sine(n=2).load("valid")


def test_only_sines_of_the_datas_amplitude_count_as_sines() -> None:
    """A flat line fits a·sin + b·cos + c with a ≈ b ≈ 0 and no residual; a sine of half the data's
    amplitude is a sine but not the data's: neither counts. The data's own curves all do."""
    ds = Sine(n=200, seed=3)
    real, test = ds.load("train").double(), ds.load("test").double()
    same = ds.eval_figures(real, test)
    assert same["sine_share"] == 1.0 and abs(same["sine_amplitude"] - 1.0) < 1e-3
    assert same["sine_frequency_ks"] < 0.2 and same["sine_phase_ks"] < 0.2
    flat = ds.eval_figures(torch.full_like(real, 0.3), test)
    assert flat["sine_residual"] < 1e-6  # the old figure would have called every flat line a sine
    assert flat["sine_share"] == 0.0 and flat["sine_amplitude"] < 1e-6
    half = ds.eval_figures(0.5 * real, test)
    assert half["sine_residual"] < 0.05 and half["sine_share"] == 0.0
    assert abs(half["sine_amplitude"] - 0.5) < 1e-3
    near = ds.eval_figures(0.85 * real, test)  # within 20% of the data's amplitude
    assert near["sine_share"] == 1.0
