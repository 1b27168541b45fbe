"""A run folder appears whole or not at all; one writer at a time; the record says what was used."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import pytest
import torch
from click.testing import CliRunner, Result
from safetensors import SafetensorError

from ganzoo import checkpoint, hookimpl
from ganzoo.cli import cli
from ganzoo.components import Dataset


def _disk_full_at_first_checkpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    """safetensors reports a full disk as its own error, as the Rust library words it."""
    real, calls = checkpoint.save_file, [0]

    def save_file(tensors: Any, filename: str, metadata: Any = None) -> None:
        calls[0] += 1
        if calls[0] == 1:
            raise SafetensorError("Error while serializing: I/O error: No space left on device (os error 28)")
        real(tensors, filename, metadata=metadata)

    monkeypatch.setattr(checkpoint, "save_file", save_file)


def _train(out: Path, mnist_dir: Path, *more: str) -> Result:
    argv = ["train", "vanilla-mlp", "mnist", "--data-dir", str(mnist_dir), "--out", str(out), "--seed", "1"]
    return CliRunner().invoke(cli, [*argv, "--iterations", "40", "--device", "cpu", *more])


def test_a_start_that_fails_before_its_first_checkpoint_leaves_no_folder(
    tmp_path: Path, mnist_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _disk_full_at_first_checkpoint(monkeypatch)
    run = tmp_path / "run"
    result = _train(run, mnist_dir, "--checkpoint-every", "20")
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert f"{run / 'checkpoint'}" in result.stderr and "No space left on device" in result.stderr
    assert not run.exists()
    retry = _train(run, mnist_dir, "--checkpoint-every", "20")  # no --force needed
    assert retry.exit_code == 0, retry.stderr
    assert (run / "generator.safetensors").is_file()


def test_an_empty_folder_named_by_out_is_left_empty_when_the_start_fails(
    tmp_path: Path, mnist_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _disk_full_at_first_checkpoint(monkeypatch)
    run = tmp_path / "mine"
    run.mkdir()
    assert _train(run, mnist_dir, "--checkpoint-every", "20").exit_code == 1
    assert run.is_dir() and not list(run.iterdir())


def test_a_run_that_diverges_before_its_first_checkpoint_keeps_its_log(
    tmp_path: Path, train_short: Callable[..., Any]
) -> None:
    from ganzoo.errors import TrainingError

    with pytest.raises(TrainingError, match="no checkpoint had been written yet"):
        train_short(tmp_path / "run", lr_g=1e30, lr_d=1e30, iterations=200, checkpoint_every=150)
    assert (tmp_path / "run" / "metrics.jsonl").is_file()


def test_the_record_names_a_data_dir_only_when_the_data_came_from_it(
    tmp_path: Path, mnist_dir: Path, monkeypatch: pytest.MonkeyPatch, train_short: Callable[..., Any]
) -> None:
    from ganzoo import env
    from ganzoo.plugins.mnist import MNIST

    used = train_short(tmp_path / "used", iterations=2)
    assert used.record.data_dir == str(mnist_dir.resolve())
    # The folder given holds nothing; the files are found in the cache (with a warning).
    cache = tmp_path / "cache"
    shutil.copytree(mnist_dir, cache / "mnist")
    monkeypatch.setenv(env.CACHE.name, str(cache))
    monkeypatch.setattr(MNIST, "sha256", {})  # the fixture is not the full set the hashes name
    (tmp_path / "nothing").mkdir()
    fell_back = train_short(tmp_path / "fell-back", iterations=2, data_dir=tmp_path / "nothing")
    assert fell_back.record.data_dir is None
    assert json.loads((tmp_path / "fell-back" / "config.json").read_text())["data_dir"] is None


@pytest.mark.slow
def test_a_second_writer_is_refused_while_a_run_trains(tmp_path: Path, mnist_dir: Path) -> None:
    """`ganzoo train --resume R` beside a running `ganzoo train --out R`: refused, nothing logged twice."""
    run = tmp_path / "run"
    first = subprocess.Popen(
        [sys.executable, "-m", "ganzoo", "train", "vanilla-mlp", "mnist", "--data-dir", str(mnist_dir),
         "--out", str(run), "--iterations", "100000", "--checkpoint-every", "50", "--device", "cpu",
         "--seed", "1", "--set", "log_every=10"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not (run / "checkpoint" / "state.safetensors").is_file():
            assert first.poll() is None, first.stderr.read() if first.stderr else ""
            assert time.monotonic() < deadline, "the first run wrote no checkpoint in two minutes"
            time.sleep(0.2)
        for argv in (
            ["train", "--resume", str(run), "--iterations", "200000"],
            ["train", "vanilla-mlp", "mnist", "--data-dir", str(mnist_dir), "--out", str(run), "--force"],
        ):
            result = CliRunner().invoke(cli, argv)
            assert result.exit_code == 1, result.stderr
            assert f"is being written by another ganzoo process (pid {first.pid}" in result.stderr
            assert "Traceback" not in result.stderr
    finally:
        first.terminate()  # SIGTERM: a checkpoint, then exit 143
        first.wait(60)
    assert first.returncode == 143
    steps = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert len(steps) == len(set(steps)), "a step was logged twice"
    resumed = CliRunner().invoke(cli, ["train", "--resume", str(run), "--iterations", str(max(steps) + 10)])
    assert resumed.exit_code == 0, resumed.stderr  # the lock went with the process


class _Empty(Dataset):
    """A dataset plugin whose train split came out empty."""

    name = "empty"
    modality = "image"
    shape = (1, 28, 28)
    defaults: ClassVar[dict[str, Any]] = {}

    def load(self, split: str = "train") -> torch.Tensor:
        return torch.zeros(0, 1, 28, 28)


class _EmptyPlugin:
    @hookimpl
    def register_datasets(self, register: Callable[..., None]) -> None:
        register("empty", _Empty)


def test_an_empty_dataset_is_one_sentence_and_leaves_no_folder(
    tmp_path: Path, ganzoo_register: Callable[..., Any]
) -> None:
    ganzoo_register(_EmptyPlugin(), name="empty", dist="ganzoo-empty")
    result = CliRunner().invoke(cli, ["train", "vanilla-mlp", "empty", "--out", str(tmp_path / "run")])
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert "The dataset 'empty' holds no samples in its train split" in result.stderr
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    ("sets", "says"),
    [
        (["freeze_d=9"], "freeze_d=9, but the discriminator has 2 layers with weights"),
        (["memory_format=channels_last"], "memory_format=channels_last applies to images"),
    ],
)
def test_what_the_trainers_parts_refuse_is_refused_before_the_folder_exists(
    tmp_path: Path, sets: list[str], says: str
) -> None:
    """The trainer's parts are built (training/assemble) before the run folder is made, so a setting
    they cannot train with is one sentence and leaves nothing behind."""
    run = tmp_path / "run"
    argv = ["train", "vanilla-mlp", "sine", "--out", str(run), "--iterations", "2", "--device", "cpu"]
    result = CliRunner().invoke(cli, [*argv, *(a for s in sets for a in ("--set", s))])
    assert result.exit_code != 0 and "Traceback" not in result.stderr
    assert says in result.stderr
    assert not run.exists()
