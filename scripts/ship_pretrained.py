"""Make a finished run one of the pretrained generators ganzoo ships (ganzoo/pretrained/NAME).

    python scripts/ship_pretrained.py RUN NAME [--half] [--summary TEXT] [--into ganzoo/pretrained]

Writes, into a new folder NAME (replacing one of that name, atomically):
- what `ganzoo export --format hub` writes: model.safetensors (G, its moving average when the run
  kept one), config.json (the run's record, ``averaged``), README.md (the model card), samples.png;
- discriminator.safetensors, so `ganzoo train ... --init NAME` fine-tunes D as well;
- eval.json: `ganzoo eval` of the shipped weights (10,000 samples, seed 0);
- manifest.json: recipe, summary, precision, the headline figures, every file's sha256 and size, and
  ``check``: the figure CI re-measures on a subset (FD on 2,000 samples, MMD² on 1,000 curves, and
  the conditional accuracy) with its mean and a tolerance measured over five sampling seeds.

``--half`` stores G and D in float16 (loaded back into float32 networks): half the bytes. The script
prints the figures in float32 and in float16 side by side, so the choice is measured, not assumed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import statistics
import tempfile
from pathlib import Path
from typing import Any

from ganzoo import api, rundir
from ganzoo.export import export_hub
from ganzoo.pretrained import MANIFEST

ROOT = Path(__file__).resolve().parents[1]
CHECK_SEEDS = (0, 1, 2, 3, 4)


def halve(path: Path) -> None:
    """Rewrite a safetensors file with its floating tensors in float16, metadata kept."""
    import torch
    from safetensors import safe_open
    from safetensors.torch import save_file

    with safe_open(str(path), "pt") as f:
        meta = f.metadata()
        tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118
    halved = {k: v.half() if v.is_floating_point() else v for k, v in tensors.items()}
    floats = [v for v in halved.values() if v.is_floating_point()]
    assert all(torch.isfinite(v).all() for v in floats), "a weight overflows float16"
    save_file(halved, str(path), metadata=meta)


def headline(metrics: dict[str, Any]) -> dict[str, Any]:
    keep = ("fd", "kid", "precision", "recall", "classes_covered", "cond_accuracy", "class_fd_mean", "mmd")
    keep += ("sine_share", "sine_residual", "sine_amplitude", "sine_frequency_ks", "sine_phase_ks")
    return {k: v for k, v in metrics.items() if k in keep and isinstance(v, (int, float))}


def check_figures(folder: Path, sequence: bool, conditional: bool) -> dict[str, Any]:
    """What CI re-measures: the main figure on a subset, over five sampling seeds (mean, tolerance)."""
    n, key = (1000, "mmd") if sequence else (2000, "fd")
    values, accuracies = [], []
    for seed in CHECK_SEEDS:
        m = api.evaluate(folder, n=n, seed=seed).metrics
        values.append(float(m[key]))
        if conditional and "cond_accuracy" in m:
            accuracies.append(float(m["cond_accuracy"]))
    spread = max(abs(v - statistics.mean(values)) for v in values)
    out: dict[str, Any] = {
        "n": n,
        "figure": key,
        "seeds": list(CHECK_SEEDS),
        "values": values,
        "mean": statistics.mean(values),
        # Twice the largest distance from the mean over five seeds, and at least 5% of it: another
        # torch, CPU or BLAS moves the samples a little; a broken file moves them a lot.
        "tolerance": max(2 * spread, 0.05 * abs(statistics.mean(values)), 1e-3),
    }
    if accuracies:
        out["cond_accuracy"] = {"mean": statistics.mean(accuracies), "min": min(accuracies)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("name")
    parser.add_argument("--half", action="store_true", help="store G and D in float16")
    parser.add_argument("--summary", default="")
    parser.add_argument("--into", type=Path, default=ROOT / "ganzoo" / "pretrained")
    args = parser.parse_args()

    run = Path(args.run)
    info = api.show(run)
    record = json.loads((run / rundir.CONFIG).read_text())
    args.into.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{args.name}.", dir=args.into))
    try:
        hub = export_hub(run, staging / "hub")
        for f in hub.iterdir():
            f.rename(staging / f.name)
        hub.rmdir()
        shutil.copyfile(run / rundir.DISCRIMINATOR, staging / rundir.DISCRIMINATOR)
        full = api.evaluate(staging, n=10000, seed=0).to_json()
        if args.half:
            halve(staging / rundir.HUB_MODEL)
            halve(staging / rundir.DISCRIMINATOR)
        shipped = api.evaluate(staging, n=10000, seed=0).to_json()
        (staging / "eval.json").write_text(json.dumps(shipped, indent=2) + "\n")
        sequence = info.data["shape"] and len(info.data["shape"]) == 1
        check = check_figures(staging, bool(sequence), bool(info.conditional))
        files = {
            f.name: {"sha256": hashlib.sha256(f.read_bytes()).hexdigest(), "bytes": f.stat().st_size}
            for f in sorted(staging.iterdir())
            if f.is_file() and f.name != MANIFEST
        }
        manifest = {
            "name": args.name,
            "recipe": record["run"].get("recipe"),
            "summary": args.summary or f"{record['run']['generator']} on {record['run']['dataset']}",
            "precision": "fp16" if args.half else "fp32",
            "averaged": shipped["averaged"],
            "discriminator": True,
            "conditional": bool(info.conditional),
            "steps": info.steps,
            "figures": headline(shipped["metrics"]),
            "figures_fp32": headline(full["metrics"]),
            "check": check,
            "files": files,
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        for f in staging.iterdir():  # as a file made by hand: readable by all, as a wheel installs it
            f.chmod(0o644)
        staging.chmod(0o755)
        target = args.into / args.name
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    size = sum(f["bytes"] for f in files.values())
    print(f"{args.name}: {size / 2**20:.2f} MB in {target}")
    for key in headline(full["metrics"]):
        print(f"  {key}: fp32 {full['metrics'][key]:.4g}   shipped ({manifest['precision']}) "
              f"{shipped['metrics'][key]:.4g}")  # fmt: skip
    mean, tolerance = check["mean"], check["tolerance"]
    print(f"  check: {check['figure']} on {check['n']} samples {mean:.4g} ± {tolerance:.3g}")


if __name__ == "__main__":
    main()
