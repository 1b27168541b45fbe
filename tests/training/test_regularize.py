"""R1 and R2: against a direct autograd computation, lazily, and with any loss in a real run."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from ganzoo.errors import UsageError
from ganzoo.training.regularize import Regularizers, gradient_norm2


class Quadratic(nn.Module):
    """D(x) = ½ Σ (w·x)²: its input gradient is w²·x per element, known in closed form."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.tensor([1.0, -2.0, 0.5]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 0.5 * (self.w * x).square().sum(dim=1)


def test_the_gradient_norm_matches_a_direct_autograd_computation() -> None:
    d = Quadratic()
    x = torch.randn(5, 3, generator=torch.Generator().manual_seed(0))
    per_sample = []
    for row in x:
        leaf = row.view(1, 3).clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(d(leaf).sum(), leaf)
        per_sample.append(grad.square().sum())
    expected = torch.stack(per_sample).mean()
    assert torch.allclose(gradient_norm2(d, x), expected)
    closed_form = ((d.w.detach() ** 2 * x) ** 2).sum(dim=1).mean()
    assert torch.allclose(gradient_norm2(d, x), closed_form)


def test_r1_and_r2_are_half_gamma_times_the_norm_on_real_and_fake() -> None:
    d = Quadratic()
    real, fake = torch.ones(4, 3), torch.full((4, 3), 2.0)
    terms = Regularizers(r1=10.0, r2=4.0).terms(d, real, fake, d_step=0)
    assert terms["r1"].item() == pytest.approx(5.0 * gradient_norm2(d, real).item())
    assert terms["r2"].item() == pytest.approx(2.0 * gradient_norm2(d, fake).item())
    terms["r1"].backward()  # the penalty trains D's weights
    assert d.w.grad is not None and bool((d.w.grad != 0).all())


def test_lazy_penalties_are_computed_every_k_steps_with_k_times_the_weight() -> None:
    d, real, fake = Quadratic(), torch.ones(2, 3), torch.ones(2, 3)
    lazy = Regularizers(r1=1.0, every=4)
    due = [lazy.terms(d, real, fake, step)["r1"].item() for step in range(8)]
    every = Regularizers(r1=1.0).terms(d, real, fake, 0)["r1"].item()
    assert due[0] == due[4] == pytest.approx(4 * every) and due[1:4] == due[5:8] == [0.0] * 3


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"r1": -1.0}, "loss.r1 must be a finite number"),
        ({"reg_every": 0}, "loss.reg_every must be a positive"),
    ],
)
def test_bad_weights_are_one_sentence(params: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        Regularizers.from_params(params)


@pytest.mark.parametrize("loss", ["bce", "hinge", "rpgan"])
def test_any_loss_trains_with_r1_and_r2_and_logs_them(
    tmp_path: Path, train_short: Callable[..., Any], loss: str
) -> None:
    run = tmp_path / "run"
    sets = ["loss.r1=1.0", "loss.r2=0.5", "loss.reg_every=2"] + (
        ["d_update=joint"] if loss == "rpgan" else []
    )
    train_short(run, loss=loss, iterations=20, sets=sets)
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert all(r["r1"] > 0 and r["r2"] > 0 for r in rows)
    params = json.loads((run / "config.json").read_text())["run"]["params"]["loss"]
    assert (params["r1"], params["r2"], params["reg_every"]) == (1.0, 0.5, 2)
