"""One iteration: every update order trains, and --on-nan skip skips what is not finite."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import load_file

from ganzoo import api, hookimpl
from ganzoo.errors import TrainingError
from ganzoo.plugins.bce import BCE
from ganzoo.testing import registered


class HiccupLoss(BCE):
    """A BCE whose G loss is NaN on calls 46 to ``last`` only."""

    calls = 0
    last = 50

    def g(self, logits: torch.Tensor) -> torch.Tensor:
        HiccupLoss.calls += 1
        loss = super().g(logits)
        return loss * float("nan") if 45 < HiccupLoss.calls <= HiccupLoss.last else loss


class HiccupPlugin:
    @hookimpl
    def register_losses(self, register: Any) -> None:
        register("hiccup", HiccupLoss)


@pytest.mark.parametrize("last", [50, 10**9])
def test_on_nan_skip_skips_bad_updates_and_gives_up_after_twenty_in_a_row(
    tmp_path: Path, train_short: Callable[..., Any], last: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(HiccupLoss, "calls", 0)
    monkeypatch.setattr(HiccupLoss, "last", last)
    run = tmp_path / "run"

    def train() -> None:
        with registered(HiccupPlugin()):
            train_short(run, loss="hiccup", iterations=80, sets=["on_nan=skip"])

    if last == 50:  # five NaN G losses: five skipped G updates, then training goes on
        train()
        rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
        assert rows[-1]["step"] == 80 and rows[-1]["skipped"] == 5
        assert all(math.isfinite(r["g_loss"]) for r in rows)
        weights = load_file(str(run / "generator.safetensors"))
        assert all(torch.isfinite(v).all() for v in weights.values())
    else:
        with pytest.raises(TrainingError, match="diverged by step 65: 20 iterations in a row"):
            train()


@pytest.mark.parametrize(
    ("d_update", "data_order"),
    [("split", "random"), ("joint", "shuffle"), ("concat", "sequential"), ("mixed", "random")],
)
def test_every_update_order_trains(tmp_path: Path, mnist_dir: Path, d_update: str, data_order: str) -> None:
    run = tmp_path / "run"
    api.train(
        "vanilla-mlp",
        "mnist",
        out=run,
        data_dir=mnist_dir,
        iterations=6,
        seed=1,
        device="cpu",
        sets=[f"d_update={d_update}", f"data_order={data_order}", "log_every=3", "batch_size=32"],
    )
    rows = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [3, 6]
    assert all(0 < r["d_loss"] < 5 and 0 < r["g_loss"] < 10 for r in rows)
