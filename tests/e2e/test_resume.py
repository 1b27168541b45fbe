"""Never lose a run: SIGKILL at any moment, then `--resume`, ends bit for bit where a straight run does."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from ganzoo.files import read_metadata

ITERATIONS = 1000
ARGS = ["--iterations", str(ITERATIONS), "--seed", "4", "--device", "cpu", "--ema", "0.99"]
SETS = ["--set", "log_every=25", "--checkpoint-every", "100", "--sample-every", "500"]

# Runs the CLI with os.replace wrapped: at the Nth replace onto state.safetensors the process
# kills itself, either after the temporary file is complete (before the rename) or after only
# half of it is written, the two moments a checkpoint write can be caught at.
KILLER = """
import os, signal, sys
from pathlib import Path
n, mode = int(sys.argv[1]), sys.argv[2]
real_replace, count = os.replace, [0]
def replace(src, dst):
    if str(dst).endswith("state.safetensors"):
        count[0] += 1
        if count[0] == n:
            if mode == "half":
                data = Path(src).read_bytes()
                Path(src).write_bytes(data[: len(data) // 2])
            os.kill(os.getpid(), signal.SIGKILL)
    return real_replace(src, dst)
os.replace = replace
from ganzoo.cli import main
sys.argv = ["ganzoo", *sys.argv[3:]]
main()
"""


def ganzoo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ganzoo", *args],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=600,
    )


def train_args(run: Path, mnist: Path) -> list[str]:
    return ["train", "vanilla-mlp", "mnist", "--data-dir", str(mnist), "--out", str(run), *ARGS, *SETS]


@pytest.fixture(scope="module")
def straight(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("straight") / "run"
    done = ganzoo(*train_args(run, Path(__file__).parents[1] / "fixtures" / "mnist"))
    assert done.returncode == 0, done.stderr
    return run


def assert_same_run(a: Path, b: Path) -> None:
    for name in ("generator.safetensors", "generator-ema.safetensors", "discriminator.safetensors"):
        x, y = load_file(str(a / name)), load_file(str(b / name))
        assert x.keys() == y.keys() and all(torch.equal(x[k], y[k]) for k in x), name
    steps = [json.loads(line)["step"] for line in (b / "metrics.jsonl").read_text().splitlines()]
    assert steps == list(range(25, ITERATIONS + 1, 25))  # each logged step once, none lost
    assert not list(b.rglob(".*.tmp")), "a temporary file of the killed write was left behind"


def resume(run: Path) -> None:
    done = ganzoo("train", "--resume", str(run))
    assert done.returncode == 0, done.stderr


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["before-rename", "half"])
def test_a_kill_during_a_checkpoint_write_keeps_the_previous_one(
    straight: Path, tmp_path: Path, mnist_dir: Path, mode: str
) -> None:
    run = tmp_path / "run"
    killed = subprocess.run(
        [sys.executable, "-c", KILLER, "4", mode, *train_args(run, mnist_dir)], capture_output=True, text=True
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    state = json.loads(read_metadata(run / "checkpoint" / "state.safetensors")["state"])
    assert state["step"] == 300  # the 3rd checkpoint, whole; the 4th died with the process
    assert list((run / "checkpoint").glob(".*.tmp"))  # what the kill left: ignored, then removed
    resume(run)
    assert_same_run(straight, run)


@pytest.mark.slow
@pytest.mark.parametrize("lines", [6, 25])
def test_sigkill_at_any_moment_then_resume_ends_with_the_same_weights(
    straight: Path, tmp_path: Path, mnist_dir: Path, lines: int
) -> None:
    run = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, "-m", "ganzoo", *train_args(run, mnist_dir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=os.environ.copy(),
    )
    metrics = run / "metrics.jsonl"
    deadline = time.time() + 120
    while not (metrics.exists() and len(metrics.read_text().splitlines()) >= lines):
        assert time.time() < deadline and proc.poll() is None
        time.sleep(0.01)
    proc.kill()
    proc.wait(timeout=60)
    if not (run / "checkpoint" / "state.safetensors").exists():
        pytest.fail("killed before the first checkpoint: choose a later moment")
    resume(run)
    assert_same_run(straight, run)


def test_keep_checkpoints_keeps_the_last_k(tmp_path: Path, mnist_dir: Path) -> None:
    from ganzoo import api

    run = tmp_path / "run"
    api.train(
        "vanilla-mlp",
        "mnist",
        out=run,
        data_dir=mnist_dir,
        iterations=100,
        seed=0,
        device="cpu",
        checkpoint_every=20,
        keep_checkpoints=3,
    )
    names = sorted(p.name for p in (run / "checkpoint").iterdir())
    assert names == ["state-0000060.safetensors", "state-0000080.safetensors", "state.safetensors"]
    older = json.loads(read_metadata(run / "checkpoint" / "state-0000080.safetensors")["state"])
    assert older["step"] == 80
