"""Times ganzoo's vanilla-mlp training step against a plain PyTorch loop of the same math.

Both sides run on synthetic 60000x1x28x28 data, interleaved block by block in one process, so
the ratio holds even on a busy machine. Nothing here is asserted by the test suite.
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections.abc import Callable
from typing import Any

import torch
from common import compile_seconds, ganzoo_trainer, interleave, machine, ratio, step_flops
from torch import nn

RECIPE = "seed-002-vanilla-mlp-mnist"
N_DATA, LATENT, HIDDEN, PIXELS, BATCH = 60000, 100, 128, 784, 128


def ganzoo_step(
    data: torch.Tensor, reuse_fake: bool, precision: str = "fp32", compile: bool = False
) -> Callable[[], None]:
    """The real code path: recipe → resolved config → registered classes → Trainer.train_step."""
    trainer = ganzoo_trainer(
        "vanilla-mlp",
        "mnist",
        RECIPE,
        data,
        torch.device("cpu"),
        sets=(f"reuse_fake={str(reuse_fake).lower()}",),
        options={"precision": precision, "compile": compile},
    )
    s = trainer.settings
    assert s.batch_size == BATCH and s.d_update == "split"
    if compile:
        print(f"--compile: the first two steps took {compile_seconds(trainer):.1f} s")
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iterations", type=int, default=200, help="iterations per block and side")
    ap.add_argument("--blocks", type=int, default=10, help="interleaved blocks")
    ap.add_argument("--warmup", type=int, default=50, help="untimed iterations per side first")
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--bf16", action="store_true", help="also time ganzoo with --precision bf16")
    ap.add_argument("--compile", action="store_true", help="also time ganzoo with --compile")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    data = torch.rand(N_DATA, 1, 28, 28)
    sides: dict[str, Callable[[], None]] = {}
    for tag, reuse in (("reuse", True), ("fresh", False)):
        sides[f"ganzoo_{tag}"] = ganzoo_step(data, reuse)
        sides[f"plain_{tag}"] = plain_step(data, reuse)
    if args.bf16:
        sides["ganzoo_bf16"] = ganzoo_step(data, True, "bf16")
    if args.compile:
        sides["ganzoo_compile"] = ganzoo_step(data, True, compile=True)
    flops = {tag: step_flops(sides[f"ganzoo_{tag}"]) for tag in ("reuse", "fresh")}
    plain_flops = step_flops(sides["plain_reuse"])
    ms, gflops = interleave(sides, args.blocks, args.iterations, args.warmup, torch.device("cpu"))
    med = {k: statistics.median(v) for k, v in ms.items()}
    result: dict[str, Any] = {
        **machine(torch.device("cpu")),
        **{"batch": BATCH, "iterations": args.iterations, "blocks": args.blocks},
        "matmul_1024_gflops": statistics.median(gflops),
        "plain_step_flops": plain_flops,
        "pairs": {},
    }
    pairs = [("reuse", "ganzoo_reuse", "plain_reuse", True), ("fresh", "ganzoo_fresh", "plain_fresh", False)]
    if args.bf16:
        pairs.append(("bf16", "ganzoo_bf16", "plain_reuse", True))
    if args.compile:
        pairs.append(("compile", "ganzoo_compile", "plain_reuse", True))
    for tag, ours, theirs, reuse in pairs:
        mid, lo, hi = ratio(ms[theirs], ms[ours])
        f = flops["reuse" if reuse else "fresh"]
        result["pairs"][tag] = {
            "reuse_fake": reuse,
            "precision": "bf16" if tag == "bf16" else "fp32",
            "compile": tag == "compile",
            "ganzoo_ms": med[ours],
            "plain_ms": med[theirs],
            "ratio_plain_over_ganzoo": mid,
            "ratio_range": [lo, hi],
            "step_matmul_flops": f,
            "ganzoo_gflops": f / (med[ours] / 1000) / 1e9,
        }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"torch {result['torch']}, {result['threads']} threads, CPU: {result['device']}")
    print(f"{args.blocks} interleaved blocks x {args.iterations} iterations per side, batch {BATCH}")
    print(f"1024^3 fp32 matmul: {result['matmul_1024_gflops']:.1f} GFLOP/s (median over blocks)")
    for r in result["pairs"].values():
        how = f"ganzoo in {r['precision']}" + (", compiled" if r["compile"] else "")
        print(f"\nreuse_fake={str(r['reuse_fake']).lower()}, {how}:")
        print(f"  ganzoo train_step  {r['ganzoo_ms']:.3f} ms/it (median)")
        print(f"  plain loop (fp32)  {r['plain_ms']:.3f} ms/it (median)")
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
