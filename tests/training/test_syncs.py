"""No host-device synchronisation creeps into a training step.

On CUDA every read of a tensor's value by the host (``.item()``, ``bool(t)``, ``float(t)``,
``.tolist()``, ``.cpu()``, ``.numpy()``) waits for the GPU to finish all it was given: one per step
costs a GPU its queue. These tests count those reads while ganzoo's iteration runs, on the CPU,
where the same Python calls are made: the default steps make none (the figures are summed on the
device and read once per logged step, outside the iteration). ``--on-nan skip`` reads each loss
once to decide whether to step (one per update: documented in docs/guide.md). On a GPU,
``benchmarks/gpu_check.sh`` runs the step under ``torch.cuda.set_sync_debug_mode`` as well, which
also sees syncs made inside torch's own operations.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import torch

from ganzoo import api
from ganzoo.training.step import Iteration

#: The tensor methods through which the host reads a value (each a sync on CUDA).
HOST_READS = ("item", "tolist", "__bool__", "__float__", "__int__", "__index__", "cpu", "numpy")


@contextmanager
def counting_host_reads(counts: list[str]) -> Iterator[None]:
    """Append the name of every host read of a tensor's value to ``counts`` while inside."""
    saved = {name: getattr(torch.Tensor, name) for name in HOST_READS}

    def spy(name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        def read(self: torch.Tensor, *args: Any, **kwargs: Any) -> Any:
            if not getattr(read, "busy", False):  # torch's own method calling another: count once
                counts.append(name)
            read.busy = True  # type: ignore[attr-defined]
            try:
                return method(self, *args, **kwargs)
            finally:
                read.busy = False  # type: ignore[attr-defined]

        return read

    try:
        for name, method in saved.items():
            setattr(torch.Tensor, name, spy(name, method))
        yield
    finally:
        for name, method in saved.items():
            setattr(torch.Tensor, name, method)


def _reads_per_iteration(monkeypatch: pytest.MonkeyPatch, train: Callable[[], Any]) -> list[list[str]]:
    per_iteration: list[list[str]] = []
    step = Iteration.__call__

    def counted(self: Iteration) -> None:
        reads: list[str] = []
        with counting_host_reads(reads):
            step(self)
        per_iteration.append(reads)

    monkeypatch.setattr(Iteration, "__call__", counted)
    train()
    return per_iteration


def test_the_counter_sees_a_host_read() -> None:
    reads: list[str] = []
    with counting_host_reads(reads):
        t = torch.ones(3)
        _ = float(t.sum()), bool(t.all()), t.tolist()
    assert reads == ["__float__", "__bool__", "tolist"]
    assert torch.Tensor.item is not None and float(torch.ones(()).sum()) == 1.0  # put back


@pytest.mark.parametrize(
    ("arch", "sets"),
    [
        ("dcgan", []),  # the recipe: joint D update, lazy R1, EMA, label smoothing
        ("vanilla-mlp", []),  # split D updates, R1 every step, EMA
        ("dcgan", ["loss.r2=1", "d_update=concat", "augment=translation,cutout,color"]),
        ("vanilla-mlp", ["conditional=true", "loss.acgan=0.1", "lr_decay=cosine"]),
        ("dcgan", ["discriminator.spectral_norm=true"]),
    ],
)
def test_a_default_training_step_reads_nothing_back(
    tmp_path: Path, mnist_dir: Path, monkeypatch: pytest.MonkeyPatch, arch: str, sets: list[str]
) -> None:
    def train() -> Any:
        return api.train(
            arch, "mnist", out=tmp_path / "run", data_dir=mnist_dir, iterations=6, seed=0, device="cpu",
            batch_size=16, sets=["log_every=3", "sample_every=6", *sets],
        )  # fmt: skip

    reads = _reads_per_iteration(monkeypatch, train)
    assert len(reads) == 6 and all(r == [] for r in reads), reads


def test_on_nan_skip_reads_each_loss_once(
    tmp_path: Path, mnist_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def train() -> Any:
        return api.train(
            "vanilla-mlp", "mnist", out=tmp_path / "run", data_dir=mnist_dir, iterations=4, seed=0,
            device="cpu", sets=["log_every=2", "on_nan=skip"],
        )  # fmt: skip

    # split: D steps twice (real, then fake) and G once, each deciding on its loss being finite.
    reads = _reads_per_iteration(monkeypatch, train)
    assert reads == [["__bool__"] * 3] * 4
