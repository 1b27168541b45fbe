"""Sine curves with random phase and frequency: a synthetic 1-D dataset, generated from a seed."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import torch

from ganzoo.components import Dataset, DataSpec, DataStatus
from ganzoo.errors import UsageError

NAME = "sine"


class Sine(Dataset):
    """``n`` curves sin(offset + x·mul) sampled at x = 0, 0.1, …, (points-1)/10.

    offset ~ U[0, 100) and mul ~ U[1, 2), drawn from a torch.Generator seeded with ``seed``
    (train) or ``seed + 1`` (test): the same parameters always give the same curves.
    """

    kind = "sequence"
    shape = (50,)
    value_range = (-1.0, 1.0)
    splits = ("train", "test")
    defaults: ClassVar[dict[str, Any]] = {"n": 10000, "points": 50, "seed": 0}

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
        return DataSpec(self.shape, self.kind, self.value_range)

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
        """Where each curve is sampled (x = 0, 0.1, …): ``ganzoo eval`` fits a sine over these."""
        return torch.arange(self.points, dtype=torch.float64) / 10

    def status(self) -> DataStatus:
        return DataStatus(True, "generated on the fly")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
