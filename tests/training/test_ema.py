"""The moving average of G: the update rule, and a run that samples from it and resumes exactly."""

from __future__ import annotations

import json
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file

from ganzoo import api
from ganzoo.errors import Interrupted
from ganzoo.training.ema import update_ema
from ganzoo.training.loop import Trainer


def read_checkpoint_lrs(run: Path) -> dict[str, float]:
    """The learning rate of each optimiser as the run's checkpoint holds it."""
    with safe_open(str(run / "checkpoint" / "state.safetensors"), "pt") as f:
        optimizers = json.loads(f.metadata()["optimizers"])
    return {name: opt["param_groups"][0]["lr"] for name, opt in optimizers.items()}


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


def test_an_lr_decay_run_falls_to_zero_and_resumes_exactly(
    tmp_path: Path, train_short: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """--set lr_decay: the optimisers' learning rates follow the schedule (read back from the
    checkpoint), a run stopped half-way (as Ctrl-C stops it) and resumed ends bit for bit where the
    straight one does, and the decay changes the weights a run ends with."""
    sets = ["lr_decay=linear", "lr_decay_start=0.5", "ema_warmup=false"]
    train_short(tmp_path / "straight", ema=0.9, iterations=40, sets=sets)
    train_short(tmp_path / "flat", ema=0.9, iterations=40, sets=["ema_warmup=false"])

    step = Trainer.train_step

    def stop_after_20(self: Trainer) -> None:
        step(self)
        if self.state.step == 19:  # the loop counts this iteration, then stops as on a signal
            self._stop_signal = signal.SIGINT

    with monkeypatch.context() as m:
        m.setattr(Trainer, "train_step", stop_after_20)
        with pytest.raises(Interrupted):
            train_short(tmp_path / "split", ema=0.9, iterations=40, sets=sets)
    # 20 of 40 iterations done, the fall starting at 20: every step so far at the full rate.
    assert read_checkpoint_lrs(tmp_path / "split") == {"generator": 0.002, "discriminator": 0.002}
    api.train(resume=tmp_path / "split")
    # The last step (39) at 1/20 of it.
    assert read_checkpoint_lrs(tmp_path / "straight") == pytest.approx(
        {"generator": 0.002 / 20, "discriminator": 0.002 / 20}
    )
    for name in ("generator.safetensors", "generator-ema.safetensors"):
        a, b, c = (load_file(str(tmp_path / r / name)) for r in ("straight", "split", "flat"))
        assert all(torch.equal(a[k], b[k]) for k in a), name
        assert any(not torch.equal(a[k], c[k]) for k in a if a[k].is_floating_point()), name


def test_ema_warmup_off_averages_from_the_first_step(tmp_path: Path, train_short: Callable[..., Any]) -> None:
    """With ema_warmup=false a 0.99 average of a short run stays close to G's first weights; warmed
    up (the default) it follows G."""
    train_short(tmp_path / "warm", ema=0.99, iterations=10)
    train_short(tmp_path / "cold", ema=0.99, iterations=10, sets=["ema_warmup=false"])
    raw = load_file(str(tmp_path / "warm" / "generator.safetensors"))
    warm = load_file(str(tmp_path / "warm" / "generator-ema.safetensors"))
    cold = load_file(str(tmp_path / "cold" / "generator-ema.safetensors"))
    floats = [k for k in raw if raw[k].is_floating_point()]
    gap_warm = sum(float((warm[k] - raw[k]).norm()) for k in floats)
    gap_cold = sum(float((cold[k] - raw[k]).norm()) for k in floats)
    assert gap_cold > 2 * gap_warm
