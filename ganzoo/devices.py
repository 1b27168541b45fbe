"""Turns ``--device auto|cpu|cuda|cuda:N|mps`` into a torch device, or one sentence saying why not."""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

import torch

from ganzoo.errors import UsageError


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


def usable_cores() -> int:
    """CPU cores this process may really use: its affinity mask, capped by a cgroup CPU quota.

    torch sizes its thread pool from the machine's cores; in a container limited to 2 CPUs of a
    64-core host that is 64 threads fighting over 2 cores, several times slower than 2 threads.
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    try:  # cgroup v2: "max 100000" (no limit) or "200000 100000" (2 CPUs)
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        if quota != "max":
            cores = min(cores, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, cores)


def set_cpu_threads(threads: int | None = None) -> int:
    """torch's intra-op threads: ``threads`` when given, else OMP_NUM_THREADS's, else the usable cores."""
    if threads is not None:
        torch.set_num_threads(threads)
    elif not os.environ.get("OMP_NUM_THREADS"):
        torch.set_num_threads(usable_cores())
    return torch.get_num_threads()
