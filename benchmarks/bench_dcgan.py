"""Times ganzoo's DCGAN training step (source 001) against a plain PyTorch loop of the same math.

Two image shapes: 3x32x32 (the source's SVHN network, recipe seed-001-dcgan-svhn) and 1x28x28
(recipe dcgan-mnist at the source's widths, G 128 and D 64), batch 128, on synthetic data. ganzoo
runs as configured by default and, as further sides, with ``memory_format=channels_last`` and
with ``--precision bf16``; every side is interleaved block by block with the plain loop in one
process. Nothing here is asserted by the test suite.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from itertools import pairwise
from typing import Any

import torch
from common import compile_seconds, ganzoo_trainer, interleave, machine, ratio, step_flops
from torch import nn

from ganzoo.plugins.dcgan import plan

SOURCE_WIDTHS = ("generator.base_channels=128", "discriminator.base_channels=64")
SHAPES = {"3x32x32": ("svhn", "seed-001-dcgan-svhn", 3, 32), "1x28x28": ("mnist", "dcgan-mnist", 1, 28)}
BATCH, LATENT, SMOOTHING = 128, 100, 0.1


def plain_step(
    data: torch.Tensor, channels: int, side: int, device: torch.device, batch: int
) -> Callable[[], None]:
    """Source 001's algorithm written the straightforward way: nn.Sequential, BCEWithLogitsLoss with
    target tensors, default Adam, D's joint update on two forwards, .item() on the losses every step."""
    torch.manual_seed(0)
    start, stages = plan(side)
    g_widths = [128 * 2 ** (stages - 1 - i) for i in range(stages)]

    def bn(c: int) -> nn.BatchNorm2d:
        return nn.BatchNorm2d(c, momentum=0.01, eps=1e-3)

    def up(a: int, b: int) -> nn.ConvTranspose2d:
        return nn.ConvTranspose2d(a, b, 5, stride=2, padding=2, output_padding=1)

    g_layers: list[nn.Module] = [
        nn.Linear(LATENT, g_widths[0] * start * start),
        nn.Unflatten(1, (g_widths[0], start, start)),
        bn(g_widths[0]),
        nn.LeakyReLU(0.2),
    ]
    for a, b in pairwise(g_widths):
        g_layers += [up(a, b), bn(b), nn.LeakyReLU(0.2)]
    G = nn.Sequential(*g_layers, up(g_widths[-1], channels), nn.Tanh()).to(device)
    d_widths = [channels] + [64 * 2**i for i in range(stages)]
    d_layers: list[nn.Module] = []
    for i, (a, b) in enumerate(pairwise(d_widths)):
        d_layers += [nn.Conv2d(a, b, 5, stride=2, padding=2), *([bn(b)] if i else []), nn.LeakyReLU(0.2)]
    D = nn.Sequential(*d_layers, nn.Flatten(), nn.Linear(d_widths[-1] * start * start, 1)).to(device)
    opt_g = torch.optim.Adam(G.parameters(), lr=0.0002, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=0.0002, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    last: list[float] = []

    def step() -> None:
        real = data[torch.randint(0, data.shape[0], (batch,), device=device)]
        z = torch.rand(batch, LATENT, device=device) * 2 - 1
        fake = G(z)
        smooth = torch.full((batch, 1), 1 - SMOOTHING, device=device)
        zeros, ones = torch.zeros(batch, 1, device=device), torch.ones(batch, 1, device=device)
        opt_d.zero_grad()
        d_loss = bce(D(real), smooth) + bce(D(fake.detach()), zeros)
        d_loss.backward()
        opt_d.step()
        opt_g.zero_grad()
        g_loss = bce(D(fake), ones)
        g_loss.backward()
        opt_g.step()
        last[:] = [d_loss.item(), g_loss.item()]

    return step


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shape", choices=[*SHAPES, "all"], default="all")
    ap.add_argument("--iterations", type=int, default=10, help="iterations per block and side")
    ap.add_argument("--blocks", type=int, default=7, help="interleaved blocks")
    ap.add_argument("--warmup", type=int, default=3, help="untimed iterations per side first")
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--batch-size", type=int, default=BATCH)
    ap.add_argument("--no-variants", action="store_true", help="only ganzoo as configured vs the plain loop")
    ap.add_argument("--compile", action="store_true", help="also time ganzoo with --compile")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    batch = args.batch_size

    variants: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = {"ganzoo": ((), {})}
    if not args.no_variants:
        variants["ganzoo channels_last"] = (("memory_format=channels_last",), {})
        variants["ganzoo bf16"] = ((), {"precision": "bf16"})
    if args.compile:
        variants["ganzoo compile"] = ((), {"compile": True})
    out: dict[str, Any] = {**machine(device), "batch": batch, "blocks": args.blocks, "shapes": {}}
    compile_s: dict[str, float] = {}
    for shape in SHAPES if args.shape == "all" else [args.shape]:
        dataset, recipe, channels, side = SHAPES[shape]
        data = torch.rand(20000, channels, side, side, device=device) * 2 - 1
        sides: dict[str, Callable[[], None]] = {"plain": plain_step(data, channels, side, device, batch)}
        for name, (sets, options) in variants.items():
            trainer = ganzoo_trainer(
                "dcgan",
                dataset,
                recipe,
                (data + 1) / 2,
                device,
                # the source's widths, as the plain loop has them (dcgan-mnist trains narrower ones)
                sets=(f"batch_size={batch}", *SOURCE_WIDTHS, *sets),
                options=options,
            )
            sides[name] = trainer.train_step
            if options.get("compile"):
                compile_s[shape] = compile_seconds(trainer)
        flops = step_flops(sides["ganzoo"])
        plain_flops = step_flops(sides["plain"])
        t = time.perf_counter()
        ms, gflops = interleave(sides, args.blocks, args.iterations, args.warmup, device)
        rate = statistics.median(gflops)
        res: dict[str, Any] = {
            "step_flops": flops,
            "plain_step_flops": plain_flops,
            "matmul_1024_gflops": rate,
            "plain_ms": statistics.median(ms["plain"]),
            "seconds": time.perf_counter() - t,
            **({"compile_seconds": compile_s[shape]} if shape in compile_s else {}),
            "sides": {},
        }
        for name in variants:
            med, lo, hi = ratio(ms["plain"], ms[name])
            ganzoo_ms = statistics.median(ms[name])
            res["sides"][name] = {
                "ms": ganzoo_ms,
                "ratio_plain_over_ganzoo": med,
                "ratio_range": [lo, hi],
                "gflops": flops / (ganzoo_ms / 1000) / 1e9,
                "img_per_s": batch / (ganzoo_ms / 1000),
            }
        out["shapes"][shape] = res
    if args.json:
        print(json.dumps(out, indent=2))
        return
    print(f"torch {out['torch']}, {out['threads']} threads, {out['device']}, batch {batch}")
    for shape, res in out["shapes"].items():
        print(f"\n{shape}: {args.blocks} blocks x {args.iterations} iterations per side")
        print(f"  1024^3 fp32 matmul: {res['matmul_1024_gflops']:.1f} GFLOP/s")
        if "compile_seconds" in res:
            print(f"  --compile: first two steps took {res['compile_seconds']:.1f} s")
        print(
            f"  plain loop: {res['plain_ms']:.1f} ms/it "
            f"({res['plain_step_flops'] / 1e9:.2f} GFLOP per iteration)"
        )
        for name, r in res["sides"].items():
            lo, hi = r["ratio_range"]
            print(
                f"  {name:<20} {r['ms']:.1f} ms/it, {r['img_per_s']:.0f} img/s: "
                f"{r['ratio_plain_over_ganzoo']:.2f}x "
                f"the plain loop (blocks {lo:.2f}-{hi:.2f}); {r['gflops']:.1f} GFLOP/s = "
                f"{100 * r['gflops'] / res['matmul_1024_gflops']:.0f}% of the matmul rate "
                f"({res['step_flops'] / 1e9:.2f} GFLOP per iteration)"
            )


if __name__ == "__main__":
    main()
