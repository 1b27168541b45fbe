"""The training loop on the real-digit fixture: the run directory a user gets, and how a run stops."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from PIL import Image, ImageChops
from safetensors.torch import load_file

from ganzoo import api, hookimpl
from ganzoo.errors import TrainingError
from ganzoo.plugins.bce import BCE
from ganzoo.testing import registered


def test_the_run_directory_holds_what_the_design_promises(
    tmp_path: Path, train_short: Callable[..., Any]
) -> None:
    run = tmp_path / "run"
    result = train_short(run)
    assert result.steps == 60
    names = {p.name for p in run.iterdir()}
    assert names == {
        "config.json",
        "generator.safetensors",
        "generator-ema.safetensors",  # the default recipe keeps an EMA of G
        "discriminator.safetensors",
        "checkpoint",
        "metrics.jsonl",
        "samples",
        "losses.png",
    }
    config = json.loads((run / "config.json").read_text())
    assert config["run"]["recipe"] == "vanilla-mlp-mnist" and config["seed"] == 7
    digits = [str(d) for d in range(10)]  # the classes the data declares, for conditional runs
    assert config["data"] == {
        "shape": [1, 28, 28],
        "modality": "image",
        "value_range": [0.0, 1.0],
        "classes": digits,
    }
    assert config["versions"]["torch"] == torch.__version__
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [10, 20, 30, 40, 50, 60]
    assert {"d_loss", "g_loss", "d_real", "d_fake", "d_acc", "d_acc_real", "d_acc_fake", "time"} <= set(
        rows[0]
    )
    assert all(0 <= r["d_real"] <= 1 for r in rows)
    grids = sorted(p.name for p in (run / "samples").iterdir())
    assert grids == ["progress.gif", "step-0000030.png", "step-0000060.png"]
    assert Image.open(run / "samples" / grids[1]).size == (
        8 * 30 + 2,
        8 * 30 + 2,
    )  # 8x8 grid (samples = 64), 2 px padding
    # The grids over training as one animation: a frame per grid, decodable, the last one held.
    with Image.open(run / "samples" / "progress.gif") as gif:
        assert gif.format == "GIF" and gif.n_frames == 2 and gif.size == (8 * 30 + 2, 8 * 30 + 2)
        gif.seek(1)
        assert gif.info["duration"] == 2000
        last = gif.convert("L")
    grid = Image.open(run / "samples" / "step-0000060.png").convert("L")
    diff = ImageChops.difference(last, grid).getextrema()
    assert diff[1] <= 8
    assert Image.open(run / "losses.png").size[0] > 400
    assert list((run / "checkpoint").iterdir()) == [run / "checkpoint" / "state.safetensors"]


def test_a_seed_makes_a_cpu_run_repeatable(tmp_path: Path, train_short: Callable[..., Any]) -> None:
    train_short(tmp_path / "a")
    train_short(tmp_path / "b")
    a, b = (load_file(str(tmp_path / r / "generator.safetensors")) for r in ("a", "b"))
    assert all(torch.equal(a[k], b[k]) for k in a)


class ExplodingLoss(BCE):
    """A BCE that turns to NaN after a few calls."""

    calls = 0

    def g(self, logits: torch.Tensor) -> torch.Tensor:
        ExplodingLoss.calls += 1
        loss = super().g(logits)
        return loss * float("nan") if ExplodingLoss.calls > 45 else loss


class ExplodingPlugin:
    @hookimpl
    def register_losses(self, register: Any) -> None:
        register("exploding", ExplodingLoss)


def test_a_nan_loss_stops_the_run_and_keeps_the_last_good_checkpoint(
    tmp_path: Path, train_short: Callable[..., Any]
) -> None:
    run = tmp_path / "run"
    with registered(ExplodingPlugin()), pytest.raises(TrainingError) as err:
        train_short(run, loss="exploding")
    assert "diverged by step 50" in str(err.value) and "became nan" in str(err.value)
    assert "last good checkpoint is kept" in str(err.value)
    ckpt = load_file(str(run / "checkpoint" / "state.safetensors"))
    assert all(torch.isfinite(v).all() for k, v in ckpt.items() if v.is_floating_point())


class PoisonedGradient(BCE):
    """A finite G loss whose gradient is infinite from the 46th call: the weights break, not the loss."""

    calls = 0

    def g(self, logits: torch.Tensor) -> torch.Tensor:
        PoisonedGradient.calls += 1
        loss = super().g(logits)
        if PoisonedGradient.calls > 45:
            loss = loss + torch.sqrt(logits.mean() * 0)  # value 0, gradient inf
        return loss


class PoisonedPlugin:
    @hookimpl
    def register_losses(self, register: Any) -> None:
        register("poisoned", PoisonedGradient)


def test_weights_that_turn_nan_stop_the_run_even_while_the_losses_look_finite(
    tmp_path: Path, train_short: Callable[..., Any]
) -> None:
    with registered(PoisonedPlugin()), pytest.raises(TrainingError) as err:
        train_short(tmp_path / "run", loss="poisoned", sets=["log_every=1"])
    assert "diverged by step 46: the generator's weights became NaN or infinite" in str(err.value)
    assert "last good checkpoint is kept" in str(err.value)


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_ctrl_c_saves_a_checkpoint_and_says_how_to_resume(
    tmp_path: Path, mnist_dir: Path, signum: int, status: int
) -> None:
    run = tmp_path / "run"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ganzoo",
            "train",
            "vanilla-mlp",
            "mnist",
            "--data-dir",
            str(mnist_dir),
            "--iterations",
            "1000000",
            "--out",
            str(run),
            "--seed",
            "1",
            "--device",
            "cpu",
            "--set",
            "log_every=20",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    deadline = time.time() + 60
    while not (run / "metrics.jsonl").exists() or not (run / "metrics.jsonl").read_text():
        assert time.time() < deadline and proc.poll() is None, proc.communicate()
        time.sleep(0.1)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == status, err
    assert f"Resume with: ganzoo train --resume {run}" in " ".join(err.split())
    assert "Traceback" not in err
    assert (run / "checkpoint" / "state.safetensors").is_file()


def test_a_sequence_run_draws_curves_and_generates_rows(tmp_path: Path) -> None:
    run = tmp_path / "sine"
    api.train(
        "sine-1d",
        "sine",
        out=run,
        iterations=4,
        seed=0,
        device="cpu",
        sets=["dataset.n=64", "batch_size=32", "sample_every=2", "log_every=2", "checkpoint_every=2"],
    )
    assert sorted(p.name for p in (run / "samples").iterdir()) == ["step-0000002.png", "step-0000004.png"]
    assert Image.open(run / "samples" / "step-0000004.png").size[0] > 500  # generated beside real curves
    api.generate(run, n=5, seed=1, out=tmp_path / "rows.safetensors")
    rows = load_file(str(tmp_path / "rows.safetensors"))["samples"]
    assert rows.shape == (5, 50) and float(rows.abs().max()) <= 1.0
    api.generate(run, n=5, seed=1, out=tmp_path / "curves.png", smooth=5)
    assert Image.open(tmp_path / "curves.png").format == "PNG"
    api.generate(run, n=2, seed=1, nice=True, nice_factor=3, out=tmp_path / "nice.safetensors")
    assert load_file(str(tmp_path / "nice.safetensors"))["samples"].shape == (2, 50)


def test_a_full_disk_is_one_sentence_and_keeps_the_last_checkpoint(
    tmp_path: Path, mnist_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ENOSPC while writing the second checkpoint: exit 1, no traceback, the first one whole."""
    import errno

    from click.testing import CliRunner

    from ganzoo import checkpoint
    from ganzoo.cli import cli

    real, calls = checkpoint.save_file, [0]

    def save_file(tensors: Any, filename: str, metadata: Any = None) -> None:
        calls[0] += 1
        if calls[0] == 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), filename)
        real(tensors, filename, metadata=metadata)

    monkeypatch.setattr(checkpoint, "save_file", save_file)
    run = tmp_path / "run"
    argv = ["train", "vanilla-mlp", "mnist", "--data-dir", str(mnist_dir), "--out", str(run), "--seed", "1"]
    result = CliRunner().invoke(
        cli, [*argv, "--iterations", "60", "--checkpoint-every", "20", "--device", "cpu"]
    )
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert "No space left on device" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    state = checkpoint.read_metadata(run / "checkpoint" / "state.safetensors")
    assert json.loads(state["state"])["step"] == 20
    assert not list(run.rglob(".*.tmp"))
