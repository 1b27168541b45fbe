"""One figure of `ganzoo eval`'s figure over training for several runs trained with --eval-every.

    python scripts/eval_curves.py RUN[=LABEL] ... [--figure fd] -o docs/images/fd-curves.png

Reads each RUN/metrics.jsonl's evaluation lines and draws the figure against iterations, one line
per run, its label saying how many iterations the run had.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from ganzoo.rundir import read_log


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("runs", nargs="+", help="RUN or RUN=LABEL")
    parser.add_argument("--figure", default="fd")
    parser.add_argument("--log", action="store_true", help="log-scale y axis")
    parser.add_argument("-o", "--out", required=True)
    args = parser.parse_args()
    fig, ax = plt.subplots(figsize=(7, 4))
    for item in args.runs:
        path, _, label = item.partition("=")
        evals = [r for r in read_log(Path(path) / "metrics.jsonl") if "eval" in r]
        if not evals:
            raise SystemExit(f"{path}: no evaluations in metrics.jsonl (train with --eval-every).")
        steps = [r["step"] for r in evals]
        values = [r["eval"][args.figure] for r in evals]
        ax.plot(steps, values, marker="o", label=f"{label or Path(path).name} ({steps[-1]} it.)")
    ax.set_xlabel("iteration")
    ax.set_ylabel(args.figure)
    if args.log:
        ax.set_yscale("log")
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.out, dpi=100)


if __name__ == "__main__":
    main()
