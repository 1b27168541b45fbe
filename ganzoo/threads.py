"""How torch's OpenMP threads wait, chosen before torch loads: fast alone, no collapse beside a busy job.

torch's CPU kernels run on GNU OpenMP (libgomp). Between two parallel regions and at every
barrier, an idle libgomp thread *spins* (by default about 300,000 times, milliseconds) before it
sleeps. Alone on the machine that is the fastest choice: the next region starts at once. Beside
another busy process it is a collapse: a thread spins on a core the other job needs, while the
thread it waits for sits descheduled, and a 2-thread run goes several times slower than on one
thread (measured in docs/performance.md: vanilla-mlp 8 ms/iteration alone, 32–60 ms beside one
busy 2-thread torch job; with ``OMP_WAIT_POLICY=PASSIVE``, threads that sleep at once, 13 ms
beside it but 11.5 ms alone).

libgomp reads its settings once, when torch loads it, so ganzoo chooses before the first
``import torch``: :func:`choose` looks at how many threads are runnable on the machine right now
(``procs_running`` in /proc/stat, sampled a few times over ~16 ms). Another busy job →
``PASSIVE``; a quiet machine → libgomp's default spinning (shorter spins, ``GOMP_SPINCOUNT`` 300 to
10,000, measured 2–4.4× slower beside a busy job than alone, and up to 20% slower alone). The user's own
``OMP_WAIT_POLICY`` or ``GOMP_SPINCOUNT`` always wins, and ``GANZOO_OMP=off`` leaves libgomp's
defaults whatever the load. A job that starts *after* the run has started is not seen: on a
machine shared that way, set ``OMP_WAIT_POLICY=PASSIVE`` yourself.
"""

from __future__ import annotations

import math
import os
import sys
import time
from pathlib import Path

from ganzoo import env

#: Samples of the runnable-thread count, and the pause between them.
SAMPLES, PAUSE_S = 5, 0.004
#: What :func:`choose` decided, for the run's record (config.json's ``cpu_threads``) and ``--version``.
decision: str = "not chosen (torch was imported before ganzoo chose)"


def _runnable_others() -> int | None:
    """Threads runnable on the machine besides this one, the median of a few samples (Linux only)."""
    counts = []
    for i in range(SAMPLES):
        try:
            for line in Path("/proc/stat").read_text().splitlines():
                if line.startswith("procs_running"):
                    counts.append(int(line.split()[1]) - 1)  # this process reading is running
        except (OSError, ValueError, IndexError):
            return None
        if i < SAMPLES - 1:
            time.sleep(PAUSE_S)
    return sorted(counts)[len(counts) // 2] if counts else None


def choose(cores: int | None = None) -> str:
    """Sets libgomp's wait policy for this process (and its children) unless the user set one.

    Returns what was decided, in a few words. Does nothing once torch is imported (too late).
    """
    global decision
    if "torch" in sys.modules:
        return decision
    if (env.OMP.get() or "").strip().lower() == "off":
        decision = "libgomp's defaults (GANZOO_OMP=off)"
    elif "OMP_WAIT_POLICY" in os.environ or "GOMP_SPINCOUNT" in os.environ:
        mine = {k: os.environ[k] for k in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT") if k in os.environ}
        decision = "yours: " + ", ".join(f"{k}={v}" for k, v in mine.items())
    else:
        others = _runnable_others()
        cores = cores or usable_cores()
        if others is not None and others >= max(1, cores // 2):
            os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
            decision = f"OMP_WAIT_POLICY=PASSIVE ({others} other threads were running)"
        else:
            decision = "libgomp's default spinning (the machine was quiet)"
    return decision


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
