"""Run an ablation: train each variant of a base command, evaluate it, append one JSON line each.

    python scripts/ablate.py scripts/ablations/vanilla-mnist.json ROOT
    python scripts/ablate.py --table ROOT [FIGURE ...]     # the results as a markdown table

The spec is {"base": [ganzoo train arguments...], "eval": [ganzoo eval arguments...],
"variants": {"label": [extra train arguments...], ...}}. Each variant trains into ROOT/label and is
measured with `ganzoo eval` (10,000 samples unless the spec's "eval" says otherwise); its line in
ROOT/results.jsonl (read as ganzoo reads metrics.jsonl) holds the label, the arguments, the train
wall time and every eval figure.
Variants already in results.jsonl are skipped, so an interrupted ablation continues where it
stopped. docs/results.md's ablation tables were made this way.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from ganzoo.rundir import read_log


def run_variant(root: Path, label: str, base: list[str], extra: list[str], eval_args: list[str]) -> dict:
    out = root / label
    train = ["ganzoo", "train", *base, *extra, "--out", str(out), "--force", "--json"]
    t0 = time.perf_counter()
    done = subprocess.run(train, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        return {"label": label, "args": extra, "error": (done.stderr or done.stdout).strip()[-500:]}
    result = json.loads(done.stdout)
    measured = subprocess.run(
        ["ganzoo", "eval", str(out), *eval_args, "--json"], capture_output=True, text=True
    )
    if measured.returncode != 0:
        return {"label": label, "args": extra, "wall_s": wall, "error": measured.stderr.strip()[-500:]}
    return {
        "label": label,
        "args": extra,
        "wall_s": round(wall, 1),
        "steps": result.get("steps"),
        "metrics": json.loads(measured.stdout)["metrics"],
    }


IMAGE_FIGURES = ["fd", "kid", "classifier_score", "classes_covered", "precision", "recall"]


def table(root: Path, figures: list[str]) -> str:
    """results.jsonl as a markdown table: one row per variant, its arguments and figures."""
    rows = read_log(root / "results.jsonl")
    head = ["variant", "changes", "train s", *figures]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        m = r.get("metrics", {})
        cells = [
            f"{m[f]:.3g}" if isinstance(m.get(f), float) else str(m.get(f, r.get("error", "-")))
            for f in figures
        ]
        changes = " ".join(r["args"]) or "(base)"
        out.append(f"| {r['label']} | `{changes}` | {r.get('wall_s', '-')} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def main(spec_path: str, root_arg: str, *figures: str) -> int:
    if spec_path == "--table":
        print(table(Path(root_arg), list(figures) or IMAGE_FIGURES))
        return 0
    spec = json.loads(Path(spec_path).read_text())
    root = Path(root_arg)
    root.mkdir(parents=True, exist_ok=True)
    results = root / "results.jsonl"
    done = {r["label"] for r in read_log(results)}  # a line cut by a kill is run again
    eval_args = spec.get("eval", ["-n", "10000", "--seed", "0"])
    for label, extra in spec["variants"].items():
        if label in done:
            continue
        line = run_variant(root, label, spec["base"], extra, eval_args)
        with results.open("a") as f:
            f.write(json.dumps(line) + "\n")
        m = line.get("metrics", {})
        print(label, line.get("wall_s"), m.get("fd"), m.get("classes_covered"), m.get("recall"), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
