"""One figure of `ganzoo eval`'s figure over training for several runs trained with --eval-every.

    python scripts/eval_curves.py RUN[=LABEL] ... [--figure fd] [--x seconds] -o docs/images/fd-curves.png

Reads each RUN/metrics.jsonl's evaluation lines and draws the figure against iterations, one line
per run, its label saying how many iterations the run had. With ``--x seconds`` the x axis is the
run's training time in seconds: the clock at each evaluation less the time every evaluation so far
took (the eval lines' "time" and "eval_s"; a log from before those were written takes the time of
the logged step at the same iteration, evaluations included).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from ganzoo.rundir import read_log


def training_seconds(lines: list[dict], evals: list[dict]) -> list[float]:
    """The training time at each evaluation: its clock less what the evaluations so far took."""
    logged = {r["step"]: r["time"] for r in lines if "time" in r and "eval" not in r}
    out, spent = [], 0.0
    for r in evals:
        spent += r.get("eval_s", 0.0)
        clock = r["time"] if "time" in r else logged[r["step"]]
        out.append(clock - spent)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("runs", nargs="+", help="RUN or RUN=LABEL")
    parser.add_argument("--figure", default="fd")
    parser.add_argument("--log", action="store_true", help="log-scale y axis")
    parser.add_argument("--x", choices=("iterations", "seconds"), default="iterations")
    parser.add_argument("--xlog", action="store_true", help="log-scale x axis")
    parser.add_argument("-o", "--out", required=True)
    args = parser.parse_args()
    fig, ax = plt.subplots(figsize=(7, 4))
    for item in args.runs:
        path, _, label = item.partition("=")
        lines = read_log(Path(path) / "metrics.jsonl")
        evals = [r for r in lines if "eval" in r]
        if not evals:
            raise SystemExit(f"{path}: no evaluations in metrics.jsonl (train with --eval-every).")
        steps = [r["step"] for r in evals]
        values = [r["eval"][args.figure] for r in evals]
        xs = training_seconds(lines, evals) if args.x == "seconds" else steps
        ax.plot(xs, values, marker="o", label=f"{label or Path(path).name} ({steps[-1]} it.)")
    ax.set_xlabel("training seconds (evaluations excluded)" if args.x == "seconds" else "iteration")
    if args.xlog:
        ax.set_xscale("log")
    ax.set_ylabel(args.figure)
    if args.log:
        ax.set_yscale("log")
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.out, dpi=100)


if __name__ == "__main__":
    main()
