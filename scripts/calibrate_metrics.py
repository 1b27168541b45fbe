"""Print `ganzoo eval`'s figures for samplers whose quality is known, to show the numbers move right.

    python scripts/calibrate_metrics.py mnist [-n 10000] [--json]

Rows: real training images the classifier never saw in the test split (the floor a perfect
generator reaches), the same images blurred, the images of half the classes, of one class only,
one image repeated, and uniform noise. docs/metrics.md publishes the output.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable

import torch

from ganzoo.evaluate import Evaluator
from ganzoo.manager import get_manager

Sampler = Callable[[int, torch.Generator], torch.Tensor]


def blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    radius = int(3 * sigma + 0.5)
    t = torch.arange(-radius, radius + 1, dtype=torch.float32)
    k = torch.exp(-(t**2) / (2 * sigma**2))
    k = (k / k.sum()).to(x.dtype)
    pad = torch.nn.functional.pad(x, (radius, radius, radius, radius), mode="reflect")
    out = torch.nn.functional.conv2d(pad, k.view(1, 1, 1, -1))
    return torch.nn.functional.conv2d(out, k.view(1, 1, -1, 1))


def from_pool(pool: torch.Tensor, transform: Callable[[torch.Tensor], torch.Tensor] | None = None) -> Sampler:
    def sample(count: int, gen: torch.Generator) -> torch.Tensor:
        x = pool[torch.randint(len(pool), (count,), generator=gen)]
        return transform(x) if transform else x

    return sample


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", choices=["mnist", "fashion-mnist"])
    parser.add_argument("-n", type=int, default=10000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(2)
    ds = get_manager().registry.get("dataset", args.dataset).load()()
    train_x, train_y = ds.load("train"), ds.labels("train")
    ev = Evaluator(ds, args.dataset, torch.device("cpu"), n=args.n)
    rows: list[tuple[str, Sampler]] = [
        ("real training images (the floor)", from_pool(train_x)),
        ("real, blurred (σ = 1 px)", from_pool(train_x, lambda x: blur(x, 1.0))),
        ("real, blurred (σ = 2 px)", from_pool(train_x, lambda x: blur(x, 2.0))),
        ("real, classes 0–4 only", from_pool(train_x[train_y < 5])),
        ("real, class 1 only", from_pool(train_x[train_y == 1])),
        ("one real image repeated", from_pool(train_x[:1])),
        ("uniform noise", lambda count, gen: torch.rand(count, 1, 28, 28, generator=gen)),
    ]
    results = []
    for label, sampler in rows:
        t0 = time.perf_counter()
        figures = ev.evaluate(sampler)
        figures.pop("class_shares", None)
        results.append({"sampler": label, **figures, "seconds": round(time.perf_counter() - t0, 1)})
        print(f"{label}: {figures}", file=sys.stderr, flush=True)
    if args.json:
        print(json.dumps({"protocol": ev.protocol(), "rows": results}, indent=2))
        return 0
    keys = ["fd", "kid", "classifier_score", "classes_covered", "class_kl", "precision", "recall"]
    print("| sampler | " + " | ".join(keys) + " |")
    print("|---" * (len(keys) + 1) + "|")
    for r in results:
        print(f"| {r['sampler']} | " + " | ".join(_fmt(r[k]) for k in keys) + " |")
    print()
    print("protocol: " + "; ".join(f"{k}: {v}" for k, v in ev.protocol().items()))
    return 0


def _fmt(v: object) -> str:
    return str(v) if isinstance(v, int) else f"{v:.4g}"


if __name__ == "__main__":
    raise SystemExit(main())
