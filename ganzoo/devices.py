"""Turns ``--device auto|cpu|cuda|cuda:N|mps`` into a torch device, or one sentence saying why not."""

from __future__ import annotations

import os
import re

import torch

from ganzoo.errors import UsageError
from ganzoo.threads import usable_cores


def resolve_device(name: str) -> torch.device:
    """``auto`` picks CUDA, then MPS, then the CPU; an explicit device must exist."""
    name = (name or "auto").strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "mps":
        if not _mps_available():
            raise UsageError(
                "--device mps was asked for, but this machine or torch build has no MPS backend."
            )
        return torch.device("mps")
    match = re.fullmatch(r"cuda(?::(\d+))?", name)
    if match is None:
        raise UsageError(f"--device must be auto, cpu, cuda, cuda:N or mps, got '{name}'.")
    if not torch.cuda.is_available():
        raise UsageError(
            f"--device {name} was asked for, but torch sees no CUDA device here "
            "(torch.cuda.is_available() is False); use --device cpu or auto."
        )
    index = int(match.group(1)) if match.group(1) else 0
    count = torch.cuda.device_count()
    if index >= count:
        raise UsageError(f"--device {name}: this machine has {count} CUDA device(s), numbered from 0.")
    return torch.device("cuda", index)


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def set_cpu_threads(threads: int | None = None) -> int:
    """torch's intra-op threads: ``threads`` when given, else OMP_NUM_THREADS's, else the usable cores."""
    if threads is not None:
        torch.set_num_threads(threads)
    elif not os.environ.get("OMP_NUM_THREADS"):
        torch.set_num_threads(usable_cores())
    return torch.get_num_threads()


def configure_cuda(device: torch.device, precision: str, deterministic: bool) -> None:
    """How cuDNN and cuBLAS compute for this run, before its first CUDA kernel (nothing on a CPU).

    ``deterministic``: the same kernels and the same sums every time, so a seeded run and its resume
    agree bit for bit: cuDNN's deterministic algorithms with autotuning off, torch's deterministic
    algorithms (an operation that has none warns rather than fails: ``warn_only``), and cuBLAS's
    fixed workspace (``CUBLAS_WORKSPACE_CONFIG``, read when its handle is made; a value the user set
    is kept). Otherwise cuDNN autotunes (``benchmark``) for speed.

    ``precision`` fp32 computes in float32, TF32 off for matmuls and convolutions alike (cuDNN's
    default is on, which rounds fp32 convolutions to 10-bit mantissas on Ampere and newer): the
    source recipes pin fp32 to be what their documents trained; ``bf16`` is the fast choice, and
    what ``auto`` picks on those GPUs.
    """
    if device.type != "cuda":
        return
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.backends.cudnn.deterministic = deterministic
    torch.backends.cudnn.benchmark = not deterministic
    torch.use_deterministic_algorithms(deterministic, warn_only=True)
    tf32 = precision != "fp32"
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
