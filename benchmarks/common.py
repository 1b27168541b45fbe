"""What the training-step benchmarks share: the machine, a ganzoo Trainer on synthetic data,
interleaved timing blocks and FLOP counting. Nothing here is asserted by the test suite."""

from __future__ import annotations

import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import flop_registry

from ganzoo import build
from ganzoo.manager import get_manager
from ganzoo.resolve import Request, resolve
from ganzoo.rundir import Run
from ganzoo.training.assemble import Setup, assemble
from ganzoo.training.loop import Trainer


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def time_block(fn: Callable[[], None], n: int, sync: Callable[[], None] = lambda: None) -> float:
    """Milliseconds per call of ``fn`` over ``n`` calls (``sync`` waits for a GPU to finish)."""
    sync()
    t = time.perf_counter()
    for _ in range(n):
        fn()
    sync()
    return (time.perf_counter() - t) / n * 1000


def matmul_gflops(device: torch.device, size: int = 1024, reps: int = 5) -> float:
    """The fp32 rate of one large square matmul: the machine's practical ceiling."""
    a = torch.randn(size, size, device=device)
    b = torch.randn(size, size, device=device)
    a @ b
    ms = time_block(lambda: a @ b, reps, _sync(device))
    return 2 * size**3 / (ms / 1000) / 1e9


def _sync(device: torch.device) -> Callable[[], None]:
    return torch.cuda.synchronize if device.type == "cuda" else (lambda: None)


def ganzoo_trainer(
    arch: str,
    dataset: str,
    recipe: str,
    data: torch.Tensor,
    device: torch.device,
    sets: tuple[str, ...] = (),
    options: dict[str, Any] | None = None,
) -> Trainer:
    """The real code path: recipe → resolved config → registered classes → a Trainer on ``data``."""
    manager = get_manager()
    request = Request(
        arch, dataset, recipe, options={"device": str(device), "seed": 0, **(options or {})}, sets=sets
    )
    config = resolve(request, lambda kind, name: build.lookup(manager, kind, name))
    parts = build.components_for(manager, config)
    spec = build.build_dataset(parts.dataset, config, None).spec()  # the spec only: nothing is loaded
    torch.manual_seed(0)
    g, d = build.build_networks(parts, config, spec)
    loss = build.build_loss(parts.loss, config)
    # train_step writes nothing, so the run folder is never made
    setup = Setup(config, spec, device, seed=0)
    return Trainer(setup, assemble(setup, g, d, loss, data), Run(Path(tempfile.gettempdir())))


def compile_seconds(trainer: Trainer) -> float:
    """Wall time of the first two steps of a ``--compile`` trainer: tracing and building the kernels
    (the second step compiles G's step with D frozen)."""
    t = time.perf_counter()
    trainer.train_step()
    trainer.train_step()
    return time.perf_counter() - t


class _FlopCounter(TorchDispatchMode):
    """torch's FlopCounterMode without its module tracker, which fails inside ``autograd.grad``
    (the R1 penalty's double backward): the same per-op formulas, summed."""

    def __init__(self) -> None:
        super().__init__()
        self.total = 0

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        count = flop_registry.get(func._overloadpacket)
        if count is not None:
            self.total += count(*args, **kwargs, out_val=out)
        return out


def step_flops(step: Callable[[], None]) -> int:
    """FLOPs of one call (matmuls and convolutions, forward and backward) by torch's counter's formulas."""
    with _FlopCounter() as counter:
        step()
    return int(counter.total)


def interleave(
    sides: dict[str, Callable[[], None]],
    blocks: int,
    iterations: int,
    warmup: int,
    device: torch.device,
) -> tuple[dict[str, list[float]], list[float]]:
    """ms/iteration of every side per block, the order rotating each block, and the matmul rate
    measured between blocks, so a busy machine slows every side alike."""
    sync = _sync(device)
    for fn in sides.values():
        time_block(fn, warmup, sync)
    ms: dict[str, list[float]] = {k: [] for k in sides}
    gflops: list[float] = []
    names = list(sides)
    for blk in range(blocks):
        for name in names[blk % len(names) :] + names[: blk % len(names)]:
            ms[name].append(time_block(sides[name], iterations, sync))
        gflops.append(matmul_gflops(device))
    return ms, gflops


def ratio(reference: list[float], candidate: list[float]) -> tuple[float, float, float]:
    """Median, lowest and highest per-block reference/candidate time ratio (above 1: candidate faster)."""
    r = [a / b for a, b in zip(reference, candidate, strict=True)]
    return statistics.median(r), min(r), max(r)


def machine(device: torch.device) -> dict[str, Any]:
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else cpu_model()
    return {"torch": torch.__version__, "threads": torch.get_num_threads(), "device": name}
