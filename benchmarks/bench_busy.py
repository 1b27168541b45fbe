"""Times a recipe's training step alone and beside a busy job, under each OpenMP wait policy.

Each policy runs in its own process (libgomp reads its settings when torch loads it), first on a
quiet machine, then beside a busy 2-thread torch job (a 1024³ matmul loop, libgomp's defaults,
like a second training run), rounds interleaved so a slow phase of the machine hits every policy.
It prints ms per iteration, the busy/alone ratio of each policy, and each against libgomp's
default alone (the speed a user gets on a quiet machine). Nothing here is asserted by tests.

    python benchmarks/bench_busy.py                        # vanilla-mlp-mnist, 2 rounds
    python benchmarks/bench_busy.py --recipe dcgan-mnist --iterations 20 --rounds 1
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: name → the environment it adds (empty: what ganzoo itself chooses, see ganzoo/threads.py)
POLICIES: dict[str, dict[str, str]] = {
    "ganzoo's choice": {},
    "libgomp default (GANZOO_OMP=off)": {"GANZOO_OMP": "off"},
    "OMP_WAIT_POLICY=PASSIVE": {"OMP_WAIT_POLICY": "PASSIVE"},
    "GOMP_SPINCOUNT=1000": {"GOMP_SPINCOUNT": "1000"},
    "GOMP_SPINCOUNT=10000": {"GOMP_SPINCOUNT": "10000"},
    "OMP_NUM_THREADS=1": {"OMP_NUM_THREADS": "1", "GANZOO_OMP": "off"},
}

DEFAULT = "libgomp default (GANZOO_OMP=off)"

STEP = """
import sys, time
sys.path.insert(0, {here!r})
import ganzoo  # chooses OpenMP's wait policy before torch loads
import torch
from common import ganzoo_trainer
from ganzoo.recipes import load_recipes
r = load_recipes()[{recipe!r}]
data = torch.rand(4096, *{shape!r})
tr = ganzoo_trainer(r.components["generator"], r.components["dataset"], {recipe!r}, data, torch.device("cpu"))
for _ in range({warmup}): tr.train_step()
t = time.perf_counter()
for _ in range({n}): tr.train_step()
print((time.perf_counter() - t) / {n} * 1000)
"""

BUSY = "import torch\na = torch.randn(1024, 1024)\nwhile True:\n    a @ a\n"


def shape_of(recipe: str) -> tuple[int, ...]:
    sys.path.insert(0, str(HERE))
    from bench_zoo import synthetic_data

    from ganzoo.recipes import load_recipes

    r = load_recipes()[recipe]
    return tuple(synthetic_data(recipe, r.components["generator"], r.components["dataset"], 1).shape[1:])


def step_ms(policy: dict[str, str], code: str) -> float:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "OMP_NUM_THREADS")
    }
    done = subprocess.run([sys.executable, "-c", code], env={**env, **policy}, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"bench_busy: the step failed:\n{done.stderr[-2000:]}")
    return float(done.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--recipe", default="vanilla-mlp-mnist")
    ap.add_argument("--iterations", type=int, default=400, help="timed iterations per measurement")
    ap.add_argument("--warmup", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--policy", action="append", choices=list(POLICIES), help="only these (repeatable)")
    args = ap.parse_args()
    code = STEP.format(
        here=str(HERE), recipe=args.recipe, shape=shape_of(args.recipe), warmup=args.warmup, n=args.iterations
    )
    names = args.policy or list(POLICIES)
    alone: dict[str, list[float]] = {n: [] for n in names}
    busy: dict[str, list[float]] = {n: [] for n in names}
    for _ in range(args.rounds):
        for name in names:
            alone[name].append(step_ms(POLICIES[name], code))
        job = subprocess.Popen([sys.executable, "-c", BUSY], env={**os.environ, "GANZOO_OMP": "off"})
        try:
            time.sleep(1.0)
            for name in names:
                busy[name].append(step_ms(POLICIES[name], code))
        finally:
            job.kill()
            job.wait()
    base = statistics.median(alone.get(DEFAULT) or alone[names[0]])
    print(
        f"{args.recipe}: ms per iteration, median of {args.rounds} round(s) of {args.iterations} iterations"
    )
    print("| policy | alone | beside a busy 2-thread job | busy / alone | busy / default alone |")
    print("|---|---|---|---|---|")
    for name in names:
        a, b = statistics.median(alone[name]), statistics.median(busy[name])
        print(f"| {name} | {a:.2f} | {b:.2f} | {b / a:.2f}x | {b / base:.2f}x |")


if __name__ == "__main__":
    main()
