"""Sine curves with random phase and frequency: a synthetic 1-D dataset, generated from a seed."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import torch

from ganzoo.components import Dataset, DataSpec, DataStatus
from ganzoo.errors import UsageError

NAME = "sine"
#: A curve whose least-squares sine leaves an RMS residual below this counts as a sine...
SINE_OK = 0.05
#: ...when its amplitude is also within this fraction of the data's (a flat line fits a·sin + b·cos + c
#: with a ≈ b ≈ 0 and no residual at all: it is not a sine).
AMPLITUDE_OK = 0.2


class Sine(Dataset):
    """``n`` curves sin(offset + x·mul) sampled at x = 0, 0.1, …, (points-1)/10.

    offset ~ U[0, 100) and mul ~ U[1, 2), drawn from a torch.Generator seeded with ``seed``
    (train) or ``seed + 1`` (test): the same parameters always give the same curves.
    """

    name = NAME
    modality = "sequence"
    shape = (50,)
    value_range = (-1.0, 1.0)
    splits = ("train", "test")
    defaults: ClassVar[dict[str, Any]] = {"n": 10000, "points": 50, "seed": 0}
    figure_labels: ClassVar[dict[str, str]] = {
        "sine_residual": "sine-fit RMS residual (mean)",
        "sine_residual_median": "sine-fit RMS residual (median)",
        "sine_share": "share of curves that are sines of the data's amplitude",
        "sine_amplitude": "fitted amplitude (median; the data's: 1)",
        "sine_residual_real": "sine-fit residual of real curves",
        "sine_frequency_ks": "KS distance of fitted frequencies from the data's",
        "sine_phase_ks": "KS distance of fitted phases from the data's",
    }

    def __init__(self, data_dir: Path | None = None, **params: Any) -> None:
        super().__init__(data_dir, **params)
        params = self.params
        for key, low in (("n", 1), ("points", 2)):
            value = params[key]
            if not _is_int(value) or value < low:
                raise UsageError(
                    f"The dataset '{NAME}' needs {key} to be a whole number of at least {low}, not {value!r}."
                )
        if not _is_int(params["seed"]):
            raise UsageError(f"The dataset '{NAME}' needs seed to be a whole number, not {params['seed']!r}.")
        self.n, self.points, self.seed = int(params["n"]), int(params["points"]), int(params["seed"])
        self.shape = (self.points,)  # type: ignore[misc]

    def spec(self) -> DataSpec:
        return DataSpec(self.shape, self.modality, self.value_range)

    def load(self, split: str = "train") -> torch.Tensor:
        """``n`` curves of ``points`` values in [-1, 1], float32 (n, points)."""
        if split not in self.splits:
            raise UsageError(f"The dataset '{NAME}' has no split '{split}'; choose train or test.")
        g = torch.Generator().manual_seed(self.seed + (split == "test"))
        offset = torch.rand(self.n, 1, generator=g, dtype=torch.float64) * 100
        mul = torch.rand(self.n, 1, generator=g, dtype=torch.float64) + 1
        x = self.positions()
        return torch.sin(offset + x * mul).to(torch.float32)

    def positions(self) -> torch.Tensor:
        """Where each curve is sampled: x = 0, 0.1, …"""
        return torch.arange(self.points, dtype=torch.float64) / 10

    def eval_figures(self, generated: torch.Tensor, real: torch.Tensor) -> dict[str, float]:
        """How well each curve fits a sine (the residuals of generated and real curves, the share of
        sines: curves whose fit leaves an RMS residual below :data:`SINE_OK` with an amplitude within
        :data:`AMPLITUDE_OK` of the data's), and whether the sines spread over frequencies and phases
        as the data's do: the Kolmogorov-Smirnov distance between the fitted values of the generated
        sines and the real ones (0: the same spread; a collapse onto one curve gives nearly 1)."""
        from ganzoo.plugins.sine_fit import ks_distance, sine_fit_params, sine_phase

        t = self.positions()
        fake, fake_w = sine_fit_params(generated, t)
        ref, ref_w = sine_fit_params(real, t)
        fake_amplitude, fake_phase = sine_phase(generated, t, fake_w)
        ref_amplitude, ref_phase = sine_phase(real, t, ref_w)
        amplitude = float(ref_amplitude.mean())
        sines = (fake < SINE_OK) & ((fake_amplitude - amplitude).abs() <= AMPLITUDE_OK * amplitude)
        return {
            "sine_residual": float(fake.mean()),
            "sine_residual_median": float(fake.median()),
            "sine_share": float(sines.double().mean()),
            "sine_amplitude": float(fake_amplitude.median()),
            "sine_residual_real": float(ref.mean()),
            "sine_frequency_ks": ks_distance(fake_w[sines], ref_w),
            "sine_phase_ks": ks_distance(fake_phase[sines], ref_phase),
        }

    def status(self) -> DataStatus:
        return DataStatus(True, "generated on the fly")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
