"""What fits in memory: the bytes a device has free, and sizes refused before they are allocated.

A size the user types (``--batch-size``, ``-n``, ``--steps``, ``--set samples=...``) becomes a
tensor of that many samples. torch asks the allocator for it at once and fails with an
allocator's message and a traceback, or, worse, succeeds and lets the machine swap. These checks
come first: one sentence that says how much the size needs, how much the device has, and the
largest size that would fit.
"""

from __future__ import annotations

import math
import os
from typing import Any

from ganzoo.errors import UsageError

#: Leave this share of the free memory to everything else (the OS, the data already loaded,
#: the allocator's own rounding): a size is refused when it needs more than the rest.
HEADROOM = 0.8


def available_bytes(device: Any = "cpu") -> int:
    """Bytes free for new tensors on ``device``: CUDA's free memory, else the machine's available RAM."""
    if getattr(device, "type", str(device).split(":")[0]) == "cuda":
        import torch

        free, _ = torch.cuda.mem_get_info(device)
        return int(free)
    return _ram_available()


def _ram_available() -> int:
    """MemAvailable from /proc/meminfo (what the kernel can give without swapping), else free pages."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:  # macOS and other Unixes without /proc
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return 1 << 62  # unknown: nothing is refused on a guess


def human(n: float) -> str:
    """Bytes for a person: 1.5 GB, 320 MB, 4 KB."""
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= size:
            value = n / size
            return f"{value:,.0f} {unit}" if value >= 100 else f"{value:.3g} {unit}"
    return f"{int(n)} bytes"


def check_fits(
    what: str, count: int, per_item: float, device: Any = "cpu", fixed: float = 0.0, least: int = 1
) -> None:
    """Refuse ``count`` items of ``per_item`` bytes each (plus ``fixed``) when they cannot fit.

    ``what`` names the size as the user gave it (``"-n 100000000000"``); the sentence says what
    that needs, what the device has, and the largest count that fits (at least ``least``).
    """
    free = available_bytes(device) * HEADROOM
    needed = count * per_item + fixed
    if needed <= free:
        return
    fits = max(int((free - fixed) // per_item), 0) if per_item > 0 else count
    where = "this machine has" if getattr(device, "type", str(device)) == "cpu" else f"{device} has"
    advice = f"at most {fits:,} fit" if fits >= least else "nothing of that size fits"
    raise UsageError(
        f"{what} needs about {human(needed)} of memory, but {where} {human(free)} free for it; {advice}."
    )


def sample_bytes(shape: tuple[int, ...], itemsize: int = 4) -> int:
    """Bytes of one sample of ``shape`` in float32 (or ``itemsize`` bytes a value)."""
    return math.prod(shape) * itemsize


def sampling_bytes(
    generator: Any, latent_dim: int, shape: tuple[int, ...], conditional: bool, device: Any
) -> float:
    """Bytes one generated sample takes: the generator's activations for it, the sample, its copy
    in [0, 1] and in a PNG grid (training's sample grids and ``ganzoo generate`` alike)."""
    import torch

    labels = (torch.zeros(2, dtype=torch.long, device=device),) if conditional else ()
    g_act = activation_bytes(generator, torch.zeros(2, latent_dim, device=device), *labels)
    return g_act + 3 * sample_bytes(shape)


def activation_bytes(net: Any, x: Any, *extra: Any) -> float:
    """Bytes a forward pass of ``net`` keeps for backward, per sample of the batch ``x`` (``extra``:
    the call's further arguments, a conditional network's labels).

    The outputs of every layer are summed: autograd keeps about that much for the backward pass.
    Run in eval mode under no_grad on the probe's input, so no random number is drawn and no
    BatchNorm statistic moves (a seeded run trains as it would without it).
    """
    import torch

    from ganzoo.sampling import eval_mode

    total = 0

    def count(module: Any, inputs: Any, output: Any) -> None:
        nonlocal total
        for t in output if isinstance(output, (tuple, list)) else (output,):
            if isinstance(t, torch.Tensor):
                total += t.numel() * 4  # float32, whatever autocast computes in

    # Leaves only: a container's output is its last leaf's, already counted.
    handles = [m.register_forward_hook(count) for m in net.modules() if next(m.children(), None) is None]
    try:
        with eval_mode(net), torch.no_grad():
            net(x, *extra)
    finally:
        for h in handles:
            h.remove()
    return total / len(x)
