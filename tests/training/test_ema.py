"""The moving average of G: the update rule, and a run that samples from it and resumes exactly."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file

from ganzoo import api
from ganzoo.training.ema import update_ema


def test_update_ema_moves_the_average_toward_the_weights_and_copies_buffers() -> None:
    model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    ema = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    before = [p.detach().clone() for p in ema.parameters()]
    model.train()(torch.randn(8, 3))  # moves the BatchNorm running statistics
    update_ema(ema, model, 0.9)
    for p_ema, p0, p in zip(ema.parameters(), before, model.parameters(), strict=True):
        torch.testing.assert_close(p_ema, 0.9 * p0 + 0.1 * p.detach())
    torch.testing.assert_close(ema[1].running_mean, model[1].running_mean)
    assert int(ema[1].num_batches_tracked) == 1
    # Warm-up: early on the average follows the weights closely, whatever the decay asked for.
    update_ema(ema, model, 0.999, updates=1)  # d = min(0.999, 2/11)
    after = [p.detach().clone() for p in ema.parameters()]
    update_ema(ema, model, 0.999, updates=1)
    for p_ema, p0, p in zip(ema.parameters(), after, model.parameters(), strict=True):
        torch.testing.assert_close(p_ema, 2 / 11 * p0 + 9 / 11 * p.detach())


def test_an_ema_run_samples_from_the_average_and_resumes_exactly(
    tmp_path: Path, train_short: Callable[..., Any]
) -> None:
    train_short(tmp_path / "straight", ema=0.9, iterations=40)
    train_short(tmp_path / "split", ema=0.9, iterations=20)
    api.train(resume=tmp_path / "split", iterations=40)
    for name in ("generator.safetensors", "generator-ema.safetensors"):
        a, b = (load_file(str(tmp_path / r / name)) for r in ("straight", "split"))
        assert all(torch.equal(a[k], b[k]) for k in a), name
    raw = load_file(str(tmp_path / "straight" / "generator.safetensors"))
    avg = load_file(str(tmp_path / "straight" / "generator-ema.safetensors"))
    assert any(not torch.equal(raw[k], avg[k]) for k in raw if raw[k].is_floating_point())
    assert api.load_generator(tmp_path / "straight").ema
    assert not api.load_generator(tmp_path / "straight", ema=False).ema
    x_avg = api.load_generator(tmp_path / "straight").sample(4, seed=0)
    x_raw = api.load_generator(tmp_path / "straight", ema=False).sample(4, seed=0)
    assert not torch.equal(x_avg, x_raw)
