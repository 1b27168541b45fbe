"""Times the training step of every recipe in zoo.toml, in fp32 and bf16, against the machine's matmul rate.

For each recipe: ms per iteration of ``Trainer.train_step()`` (the real recipe → registry → build
path, on synthetic data of the dataset's shape), the matmul and convolution FLOPs of one
iteration as torch's FlopCounterMode counts them, the GFLOP/s that makes, and that rate as a
percentage of a 1024³ fp32 matmul measured right after the recipe's own blocks. Nothing here is
asserted by the test suite; ``--smoke`` (one recipe, one short block) is what the tests run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from typing import Any

import torch
from common import ganzoo_trainer, interleave, machine, matmul_gflops, step_flops

from ganzoo import build
from ganzoo.errors import GanzooError
from ganzoo.layers import UpsampleConv2d
from ganzoo.manager import get_manager
from ganzoo.recipes import load_recipes
from ganzoo.resolve import Request, resolve

PRECISIONS = ("fp32", "bf16")
NAIVE = "fp32, naive upsample-conv"
CONTIGUOUS = "fp32, contiguous"


def synthetic_data(recipe: str, arch: str, dataset: str, n: int) -> torch.Tensor:
    """Random data in [0, 1] of the shape the recipe's dataset declares (nothing is loaded)."""
    manager = get_manager()
    config = resolve(Request(arch, dataset, recipe), lambda kind, name: build.lookup(manager, kind, name))
    parts = build.components_for(manager, config)
    spec = build.build_dataset(parts.dataset, config, None).spec()
    return torch.rand(n, *spec.shape)


def polyphase_layers(trainer: Any) -> list[UpsampleConv2d]:
    return [m for m in trainer.engine.G.modules() if isinstance(m, UpsampleConv2d)]


def _time_one(step: Any) -> float:
    t = time.perf_counter()
    step()
    return time.perf_counter() - t


def measure_recipe(
    name: str,
    arch: str,
    dataset: str,
    precisions: tuple[str, ...],
    data: torch.Tensor,
    seconds: float,
    device: torch.device,
    contiguous: bool = False,
) -> dict[str, Any]:
    """Every side of one recipe timed in the same blocks, the order rotating: each precision, and
    for a generator with UpsampleConv2d layers also its fp32 step with them run naively
    (upsample, then convolve); with ``contiguous``, for networks that run channels-last also
    their fp32 step in NCHW. ``seconds``: about how long each side is timed in all."""
    sides: dict[str, Any] = {}
    for precision in precisions:
        sides[precision] = ganzoo_trainer(arch, dataset, name, data, device, options={"precision": precision})
    fp32 = {"precision": "fp32"}  # the comparison sides are fp32 whatever the recipe's precision
    naive = ganzoo_trainer(arch, dataset, name, data, device, options=fp32)
    if polyphase_layers(naive):
        for layer in polyphase_layers(naive):
            layer.polyphase = False
        sides[NAIVE] = naive
    if contiguous and sides[precisions[0]].engine.channels_last:
        sets = ("memory_format=contiguous",)
        sides[CONTIGUOUS] = ganzoo_trainer(arch, dataset, name, data, device, sets=sets, options=fp32)
    steps = {k: t.train_step for k, t in sides.items()}
    for step in steps.values():
        step()  # the first step builds optimiser state and warms the allocator
    flops = {k: step_flops(step) for k, step in steps.items()}  # a second step each
    one = max(_time_one(step) for step in steps.values())  # a steady step of the slowest side
    per_block = max(2, int(seconds / 3 / max(one, 1e-4)))
    ms, rates = interleave(steps, 3, per_block, min(per_block, 20), device)
    rate = statistics.median(rates)
    row: dict[str, Any] = {"matmul_gflops": rate, "iterations_per_block": per_block}
    for k in steps:
        m = statistics.median(ms[k])
        gflops = flops[k] / (m / 1000) / 1e9
        row[k] = {
            "ms": m,
            "blocks_ms": ms[k],
            "flops": flops[k],
            "gflops": gflops,
            "percent_of_matmul": 100 * gflops / rate,
            "batch": sides[k].settings.batch_size,
        }
    if NAIVE in row:  # the time the naive form's FLOPs would take at the matmul rate
        row[NAIVE]["roofline_ms"] = flops[NAIVE] / (rate * 1e9) * 1000
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--recipe", action="append", help="only this recipe (repeatable); default: all")
    ap.add_argument("--precision", choices=[*PRECISIONS, "all"], default="all")
    ap.add_argument("--seconds", type=float, default=6.0, help="timed seconds per recipe and precision")
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--data", type=int, default=4096, help="synthetic samples per recipe")
    ap.add_argument("--contiguous", action="store_true", help="also time channels-last nets in NCHW")
    ap.add_argument("--smoke", action="store_true", help="one quick recipe, one short block: a test")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    ap.add_argument("--save", metavar="FILE", help="also write the JSON object to FILE")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    recipes = load_recipes()
    names = ["vanilla-mlp-mnist"] if args.smoke else args.recipe or list(recipes)
    unknown = [n for n in names if n not in recipes]
    if unknown:
        sys.exit(f"bench_zoo: no recipe named {', '.join(unknown)} in zoo.toml.")
    precisions = PRECISIONS if args.precision == "all" else (args.precision,)
    seconds = 0.3 if args.smoke else args.seconds
    out: dict[str, Any] = {**machine(device), "recipes": {}}
    warm_up = time.perf_counter()
    while time.perf_counter() - warm_up < (0.1 if args.smoke else 2.0):  # clocks and caches up first
        matmul_gflops(device)
    for name in names:
        r = recipes[name]
        arch, dataset = r.components["generator"], r.components["dataset"]
        try:
            data = synthetic_data(name, arch, dataset, args.data).to(device)
        except GanzooError as e:  # image-folder: its shape comes from the user's folder
            out["recipes"][name] = {"skipped": str(e)}
            continue
        out["recipes"][name] = measure_recipe(
            name, arch, dataset, precisions, data, seconds, device, args.contiguous
        )
    if args.save:
        with open(args.save, "w") as f:
            json.dump(out, f, indent=2)
    if args.json:
        print(json.dumps(out, indent=2))
        return
    print(f"torch {out['torch']}, {out['threads']} threads, {out['device']}")
    head = "| recipe | batch | GFLOP/it |" + "".join(
        f" {p} ms/it | {p} GFLOP/s (% of matmul) |" for p in precisions
    )
    print(f"\n{head} fp32 matmul GFLOP/s |")
    print("|" + "---|" * (3 + 2 * len(precisions) + 1))
    for name, row in out["recipes"].items():
        if "skipped" in row:
            print(f"| {name} | skipped: {row['skipped']} |")
            continue
        first = row[precisions[0]]
        line = f"| {name} | {first['batch']} | {first['flops'] / 1e9:.3f} |"
        for p in precisions:
            m = row[p]
            line += f" {m['ms']:.2f} | {m['gflops']:.1f} ({m['percent_of_matmul']:.0f}%) |"
        print(f"{line} {row['matmul_gflops']:.0f} |")
    for name, row in out["recipes"].items():
        if CONTIGUOUS in row and "fp32" in row:
            c, p = row[CONTIGUOUS], row["fp32"]
            print(
                f"\n{name}, fp32, the same blocks: channels-last {p['ms']:.1f} ms, contiguous "
                f"{c['ms']:.1f} ms ({c['ms'] / p['ms']:.2f}x)"
            )
        if NAIVE in row and "fp32" in row:
            n, p = row[NAIVE], row["fp32"]
            print(
                f"\n{name}, fp32, the same blocks: the polyphase step {p['ms']:.1f} ms "
                f"({p['flops'] / 1e9:.1f} GFLOP) against the naive form's {n['ms']:.1f} ms "
                f"({n['flops'] / 1e9:.1f} GFLOP), whose "
                f"roofline at the matmul rate is {n['roofline_ms']:.1f} ms"
            )


if __name__ == "__main__":
    main()
