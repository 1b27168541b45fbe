"""FusedAdam is torch's Adam, bit for bit; the learning-rate schedules fall as they say."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from ganzoo.optim import FusedAdam, lr_factor


def _nets() -> tuple[nn.Module, nn.Module]:
    torch.manual_seed(0)
    a = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 2))
    b = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 2))
    b.load_state_dict(a.state_dict())
    return a, b


def _steps(net: nn.Module, opt: torch.optim.Optimizer, n: int, skip_bias: bool = False) -> None:
    g = torch.Generator().manual_seed(1)
    for i in range(n):
        opt.zero_grad(set_to_none=True)
        net(torch.randn(4, 6, generator=g)).pow(2).mean().backward()
        if skip_bias and i % 2:  # a parameter without a gradient this step: Adam leaves it alone
            net[2].bias.grad = None
        opt.step()


def test_fused_adam_is_torchs_adam_bit_for_bit() -> None:
    mine, theirs = _nets()
    opt_a = FusedAdam(mine.parameters(), lr=1e-2, betas=(0.5, 0.9), weight_decay=1e-3)
    opt_b = torch.optim.Adam(theirs.parameters(), lr=1e-2, betas=(0.5, 0.9), weight_decay=1e-3, fused=True)
    _steps(mine, opt_a, 5)
    _steps(theirs, opt_b, 5)
    for opt in (opt_a, opt_b):  # a learning-rate change goes through
        opt.param_groups[0]["lr"] = 3e-3
    _steps(mine, opt_a, 5, skip_bias=True)
    _steps(theirs, opt_b, 5, skip_bias=True)
    assert all(torch.equal(p, q) for p, q in zip(mine.parameters(), theirs.parameters(), strict=True))
    # The same state: a checkpoint of one loads into the other and both go on alike.
    opt_c = torch.optim.Adam(theirs.parameters(), lr=3e-3, fused=True)
    opt_c.load_state_dict(opt_a.state_dict())
    assert opt_c.state_dict()["state"][0]["step"] == opt_b.state_dict()["state"][0]["step"] == 10


def test_lr_factor_schedules() -> None:
    total = 100
    assert [lr_factor("none", 0.0, s, total) for s in (0, 50, 99)] == [1.0, 1.0, 1.0]
    linear = [lr_factor("linear", 0.0, s, total) for s in (0, 25, 50, 99)]
    assert linear == pytest.approx([1.0, 0.75, 0.5, 0.01])
    # CycleGAN's: flat for the first half, then linear to 0.
    cyclegan = [lr_factor("linear", 0.5, s, total) for s in (0, 49, 50, 75, 99)]
    assert cyclegan == pytest.approx([1.0, 1.0, 1.0, 0.5, 0.02])
    assert lr_factor("cosine", 0.0, 0, total) == 1.0
    assert lr_factor("cosine", 0.0, 50, total) == pytest.approx(0.5)
    assert lr_factor("cosine", 0.0, 99, total) == pytest.approx(0.5 * (1 + math.cos(math.pi * 0.99)))
    falling = [lr_factor(k, 0.2, s, total) for k in ("linear", "cosine") for s in range(20, 100)]
    assert all(0 < f <= 1 for f in falling)
    # A step past the end (a resume that shortened the run) stays at 0, never negative.
    assert lr_factor("linear", 0.0, 150, total) == 0.0 and lr_factor("cosine", 0.0, 150, total) == 0.0
