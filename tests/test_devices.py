"""Devices and threads: the usable cores, OMP_NUM_THREADS, and CUDA asked for where there is none."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from ganzoo.cli import cli
from ganzoo.devices import set_cpu_threads, usable_cores


def test_threads_follow_the_usable_cores_unless_omp_num_threads_is_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = torch.get_num_threads()
    try:
        monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)
        assert usable_cores() == 1
        monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
        assert set_cpu_threads() == 1
        torch.set_num_threads(2)
        monkeypatch.setenv("OMP_NUM_THREADS", "2")
        assert set_cpu_threads() == 2  # the user's setting wins
    finally:
        torch.set_num_threads(before)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_asking_for_cuda_without_it_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["train", "vanilla-mlp", "mnist", "--device", "cuda"])
    assert result.exit_code == 2
    assert "torch sees no CUDA device here" in result.stderr and "Traceback" not in result.stderr
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(("precision", "deterministic"), [("fp32", True), ("bf16", False)])
def test_configure_cuda_sets_determinism_and_tf32(
    monkeypatch: pytest.MonkeyPatch, precision: str, deterministic: bool
) -> None:
    """What a CUDA run computes with (the flags are plain settings, so this runs without a GPU):
    a seeded run gets deterministic kernels and cuBLAS's fixed workspace; fp32 means no TF32."""
    import os

    from ganzoo.devices import configure_cuda

    flags = [
        (torch.backends.cudnn, "deterministic"),
        (torch.backends.cudnn, "benchmark"),
        (torch.backends.cudnn, "allow_tf32"),
        (torch.backends.cuda.matmul, "allow_tf32"),
    ]
    saved = [getattr(module, name) for module, name in flags]  # torch's own objects: put back by hand
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    before = (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
    )
    try:
        configure_cuda(torch.device("cuda"), precision, deterministic)
        assert torch.backends.cudnn.deterministic is deterministic
        assert torch.backends.cudnn.benchmark is not deterministic
        assert torch.are_deterministic_algorithms_enabled() is deterministic
        assert (os.environ.get("CUBLAS_WORKSPACE_CONFIG") == ":4096:8") is deterministic
        assert torch.backends.cudnn.allow_tf32 is (precision != "fp32")
        assert torch.backends.cuda.matmul.allow_tf32 is (precision != "fp32")
        # On the CPU nothing changes: its kernels are deterministic already.
        now = [getattr(module, name) for module, name in flags]
        configure_cuda(torch.device("cpu"), "bf16" if precision == "fp32" else "fp32", not deterministic)
        assert [getattr(module, name) for module, name in flags] == now
    finally:
        torch.use_deterministic_algorithms(before[0], warn_only=before[1])
        for (module, name), value in zip(flags, saved, strict=True):
            setattr(module, name, value)
