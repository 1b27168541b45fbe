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
