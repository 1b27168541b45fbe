"""Checkpoints: a resumed run ends with the same weights as a straight one, plugins' draws included."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

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
