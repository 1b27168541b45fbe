"""Checkpoints: a resumed run ends with the same weights as a straight one, plugins' draws included."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import load_file

from ganzoo import api, hookimpl
from ganzoo.plugins.bce import BCE
from ganzoo.testing import registered


def test_resume_ends_with_the_same_weights_as_a_straight_run(
    tmp_path: Path, train_short: Callable[..., Any]
) -> None:
    train_short(tmp_path / "straight", iterations=90)
    train_short(tmp_path / "split", iterations=40)
    api.train(resume=tmp_path / "split", iterations=90)
    a, b = (load_file(str(tmp_path / r / "generator.safetensors")) for r in ("straight", "split"))
    assert all(torch.equal(a[k], b[k]) for k in a)
    steps = [json.loads(x)["step"] for x in (tmp_path / "split" / "metrics.jsonl").read_text().splitlines()]
    assert steps == list(range(10, 100, 10))


class HostRandomLoss(BCE):
    """A BCE whose G loss draws from Python's and numpy's global RNGs, as a plugin's might."""

    def g(self, logits: torch.Tensor) -> torch.Tensor:
        import random

        import numpy as np

        return super().g(logits) * (1 + 0.1 * random.random() + 0.1 * float(np.random.rand()))


class HostRandomPlugin:
    @hookimpl
    def register_losses(self, register: Any) -> None:
        register("host-random", HostRandomLoss)


def test_resume_replays_python_and_numpy_draws_of_plugins(
    tmp_path: Path, train_short: Callable[..., Any]
) -> None:
    import random

    import numpy as np

    with registered(HostRandomPlugin()):
        for name, iterations in (("straight", 90), ("split", 40)):
            random.seed(11)
            np.random.seed(11)
            train_short(tmp_path / name, iterations=iterations, loss="host-random")
        random.seed(99)  # the resumed process starts from other states; the checkpoint restores them
        np.random.seed(99)
        api.train(resume=tmp_path / "split", iterations=90)
    a, b = (load_file(str(tmp_path / r / "generator.safetensors")) for r in ("straight", "split"))
    assert all(torch.equal(a[k], b[k]) for k in a)


def _move_streams(checkpoint_file: Path, device: str) -> None:
    """Make a CPU checkpoint look saved on ``device``: its streams' states replaced by a Philox-sized
    state (16 bytes, as a CUDA generator's), the device named in its metadata (or, ``device`` None,
    not named, as before ganzoo recorded it)."""
    from safetensors import safe_open
    from safetensors.torch import save_file

    with safe_open(str(checkpoint_file), "pt") as f:
        meta = dict(f.metadata())
        tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118
    tensors["extra/rng_data"] = torch.arange(16, dtype=torch.uint8)
    state = json.loads(meta["state"])
    state.pop("rng_device", None)
    if device:
        state["rng_device"] = device
    meta["state"] = json.dumps(state)
    save_file(tensors, str(checkpoint_file), metadata=meta)


@pytest.mark.parametrize("recorded", ["cuda", ""])
def test_a_checkpoint_from_another_device_resumes_with_reseeded_streams_and_a_note(
    tmp_path: Path, train_short: Callable[..., Any], capsys: pytest.CaptureFixture[str], recorded: str
) -> None:
    """A run saved on CUDA and resumed on the CPU (or the reverse) is not "damaged": its weights and
    optimisers load, its noise and batch streams start again from the seed and the step (with a note
    saying so), and two such resumes end alike."""
    ends = []
    for name in ("a", "b"):
        run = tmp_path / name
        train_short(run, iterations=20, checkpoint_every=20)
        _move_streams(run / "checkpoint" / "state.safetensors", recorded)
        capsys.readouterr()
        api.train(resume=run, iterations=30)
        err = capsys.readouterr().err
        assert "random streams were saved on" in " ".join(err.split())
        assert "seeded by the run's seed and step 20" in " ".join(err.split())
        ends.append(load_file(str(run / "generator.safetensors")))
    assert all(torch.equal(ends[0][k], ends[1][k]) for k in ends[0])


def test_a_streamed_run_resumes_with_fresh_batches_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An image folder over max_memory_mb streams through a DataLoader; its resume cannot replay the
    batches the loader had fetched ahead, so it draws fresh ones (seeded by the seed and the batches
    drawn: two resumes agree) and says so, as does the record `ganzoo show` reads."""
    from PIL import Image

    folder = tmp_path / "pictures"
    folder.mkdir()
    for i in range(40):
        Image.new("RGB", (16, 16), (6 * i, 255 - 6 * i, 128)).save(folder / f"{i:02d}.png")
    common = {"data_dir": folder, "device": "cpu", "seed": 0, "checkpoint_every": 5, "batch_size": 8}
    sets = ["dataset.image_size=16", "dataset.max_memory_mb=0.01", "log_every=5"]
    ends = []
    for name in ("a", "b"):
        run = tmp_path / name
        api.train("vanilla-mlp", "image-folder", out=run, iterations=5, sets=sets, **common)
        capsys.readouterr()
        api.train(resume=run, iterations=10)
        err = " ".join(capsys.readouterr().err.split())
        assert "this run streams its data from disk, so the resumed run draws fresh batches" in err
        ends.append(load_file(str(run / "generator.safetensors")))
        assert api.show(run)["streamed"] is True
    assert all(torch.equal(ends[0][k], ends[1][k]) for k in ends[0])
