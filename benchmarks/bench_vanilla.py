"""Times ganzoo's vanilla-mlp training step against a plain PyTorch loop of the same math.

Both sides run on synthetic 60000x1x28x28 data, interleaved block by block in one process, so
the ratio holds even on a busy machine. Nothing here is asserted by the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ganzoo import build
from ganzoo.manager import get_manager
from ganzoo.progress import PlainProgress
from ganzoo.recipes import resolve
from ganzoo.trainer import Trainer

RECIPE = "seed-002-vanilla-mlp-mnist"
N_DATA, LATENT, HIDDEN, PIXELS, BATCH = 60000, 100, 128, 784, 128


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def step_flops(reuse_fake: bool, b: int = BATCH) -> int:
    """Matmul FLOPs (2·m·n·k each) of one ganzoo iteration: forward, dX where needed, dW where trained."""
    g1, g2 = 2 * b * LATENT * HIDDEN, 2 * b * HIDDEN * PIXELS  # G's two Linear layers
    d1, d2 = 2 * b * PIXELS * HIDDEN, 2 * b * HIDDEN * 1  # D's two Linear layers
    g_forward = g1 + g2
    d_step = (d1 + d2) + (d1 + d2) + d2  # forward, dW both layers, dX of layer 2 (input needs none)
    g_step = (d1 + d2) + (d2 + d1) + (g2 + g2 + g1)  # D forward + dX only; G: dW2, dX2, dW1
    return g_forward * (1 if reuse_fake else 2) + 2 * d_step + g_step


def ganzoo_step(data: torch.Tensor, reuse_fake: bool) -> Callable[[], None]:
    """The real code path: recipe → resolved config → registered classes → Trainer.train_step."""
    manager = get_manager()
    config = resolve(
        "vanilla-mlp",
        "mnist",
        lambda kind, name: build.lookup(manager, kind, name),
        recipe_name=RECIPE,
        options={"device": "cpu", "seed": 0},
        sets=[f"reuse_fake={str(reuse_fake).lower()}"],
    )
    classes = build.classes_for(manager, config)
    spec = build.build_dataset(classes, config, None).spec()
    torch.manual_seed(0)
    g, d = build.build_networks(classes, config, spec)
    assert d is not None and config.train.batch_size == BATCH and config.train.d_update == "split"
    trainer = Trainer(
        config,
        g,
        d,
        build.build_loss(classes, config),
        spec,
        data,
        torch.device("cpu"),
        Path(tempfile.gettempdir()),  # train_step writes nothing
        PlainProgress(quiet=True),
        {"seed": 0},
    )
    return trainer.train_step


def plain_step(data: torch.Tensor, reuse_fake: bool) -> Callable[[], None]:
    """The reference: the same algorithm written the straightforward way."""
    torch.manual_seed(0)
    data = data * 2 - 1  # tanh range, as ganzoo holds it
    G = nn.Sequential(
        nn.Linear(LATENT, HIDDEN),
        nn.LeakyReLU(0.01),
        nn.Linear(HIDDEN, PIXELS),
        nn.Tanh(),
        nn.Unflatten(1, (1, 28, 28)),
    )
    D = nn.Sequential(nn.Flatten(), nn.Linear(PIXELS, HIDDEN), nn.LeakyReLU(0.01), nn.Linear(HIDDEN, 1))
    opt_g = torch.optim.Adam(G.parameters(), lr=0.001, betas=(0.9, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=0.001, betas=(0.9, 0.999))
    bce = nn.BCEWithLogitsLoss()
    last: list[float] = []  # the logged losses

    def step() -> None:
        real = data[torch.randint(0, data.shape[0], (BATCH,))]
        ones, zeros = torch.ones(BATCH, 1), torch.zeros(BATCH, 1)
        fake = G(torch.randn(BATCH, LATENT))
        opt_d.zero_grad()
        l_real = bce(D(real), ones)
        l_real.backward()
        opt_d.step()
        opt_d.zero_grad()
        l_fake = bce(D(fake.detach()), zeros)
        l_fake.backward()
        opt_d.step()
        if not reuse_fake:
            fake = G(torch.randn(BATCH, LATENT))
        opt_g.zero_grad()
        l_g = bce(D(fake), ones)
        l_g.backward()
        opt_g.step()
        last[:] = [l_real.item(), l_fake.item(), l_g.item()]

    return step


def time_block(fn: Callable[[], None], n: int) -> float:
    t = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t) / n * 1000  # ms per call


def matmul_gflops(a: torch.Tensor, b: torch.Tensor, reps: int = 5) -> float:
    a @ b
    return 2 * a.shape[0] ** 3 / (time_block(lambda: a @ b, reps) / 1000) / 1e9


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iterations", type=int, default=200, help="iterations per block and side")
    ap.add_argument("--blocks", type=int, default=10, help="interleaved blocks")
    ap.add_argument("--warmup", type=int, default=50, help="untimed iterations per side first")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    data = torch.rand(N_DATA, 1, 28, 28)
    sides = {
        f"{side}_{tag}": make(data, reuse)
        for tag, reuse in (("reuse", True), ("fresh", False))
        for side, make in (("ganzoo", ganzoo_step), ("plain", plain_step))
    }
    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    for fn in sides.values():
        time_block(fn, args.warmup)

    ms: dict[str, list[float]] = {k: [] for k in sides}
    gflops, names = [], list(sides)
    for blk in range(args.blocks):
        order = names[blk % len(names) :] + names[: blk % len(names)]  # rotate who goes first
        for name in order:
            ms[name].append(time_block(sides[name], args.iterations))
        gflops.append(matmul_gflops(a, b))

    med = {k: statistics.median(v) for k, v in ms.items()}
    result: dict[str, Any] = {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "cpu": cpu_model(),
        **{"batch": BATCH, "iterations": args.iterations, "blocks": args.blocks},
        "matmul_1024_gflops": statistics.median(gflops),
        "pairs": {},
    }
    for tag, reuse in (("reuse", True), ("fresh", False)):
        ratios = [p / g for p, g in zip(ms[f"plain_{tag}"], ms[f"ganzoo_{tag}"], strict=True)]
        flops = step_flops(reuse)
        result["pairs"][tag] = {
            "reuse_fake": reuse,
            "ganzoo_ms": med[f"ganzoo_{tag}"],
            "plain_ms": med[f"plain_{tag}"],
            "ratio_plain_over_ganzoo": statistics.median(ratios),
            "ratio_range": [min(ratios), max(ratios)],
            "step_matmul_flops": flops,
            "ganzoo_gflops": flops / (med[f"ganzoo_{tag}"] / 1000) / 1e9,
        }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"torch {result['torch']}, {result['threads']} threads, CPU: {result['cpu']}")
    print(f"{args.blocks} interleaved blocks x {args.iterations} iterations per side, batch {BATCH}")
    print(f"1024^3 fp32 matmul: {result['matmul_1024_gflops']:.1f} GFLOP/s (median over blocks)")
    for r in result["pairs"].values():
        print(f"\nreuse_fake={str(r['reuse_fake']).lower()}:")
        print(f"  ganzoo train_step  {r['ganzoo_ms']:.3f} ms/it (median)")
        print(f"  plain loop         {r['plain_ms']:.3f} ms/it (median)")
        lo, hi = r["ratio_range"]
        print(
            f"  ganzoo is {r['ratio_plain_over_ganzoo']:.2f}× the plain loop "
            f"(median of per-block ratios plain/ganzoo; blocks ranged {lo:.2f}-{hi:.2f})"
        )
        print(
            f"  matmul FLOPs per iteration: {r['step_matmul_flops']:,} -> ganzoo achieves "
            f"{r['ganzoo_gflops']:.1f} GFLOP/s "
            f"({100 * r['ganzoo_gflops'] / result['matmul_1024_gflops']:.0f}% of the 1024^3 matmul)"
        )


if __name__ == "__main__":
    main()
