"""losses.png: the curves of metrics.jsonl, drawn with matplotlib off-screen."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ganzoo.files import atomic_path


def plot_losses(metrics: Path, out: Path) -> None:
    """D and G loss on the left, D(x) and D(G(z)) in the middle, eval figures (if any) right."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lines = [json.loads(line) for line in Path(metrics).read_text().splitlines() if line.strip()]
    rows = [r for r in lines if "d_loss" in r]
    evals = [r for r in lines if "eval" in r]
    if not rows:
        return
    steps = [r["step"] for r in rows]
    # --eval-every adds a third panel: the headline figure of `ganzoo eval` against iterations.
    key = next((k for k in ("fd", "mmd") if evals and k in evals[0]["eval"]), None)
    fig, axes = plt.subplots(1, 3 if key else 2, figsize=(16 if key else 11, 4))
    ax_loss, ax_d = axes[0], axes[1]
    for name, label in (("d_loss", "D loss"), ("g_loss", "G loss")):
        ax_loss.plot(steps, [r[name] for r in rows], label=label)
    ax_loss.set_xlabel("iteration")
    ax_loss.set_title("losses")
    ax_loss.legend()
    for name, label in (("d_real", "D(x)"), ("d_fake", "D(G(z))"), ("d_acc", "D accuracy")):
        ax_d.plot(steps, [r[name] for r in rows], label=label)
    ax_d.set_ylim(0, 1)
    ax_d.set_xlabel("iteration")
    ax_d.set_title("discriminator")
    ax_d.legend()
    if key:
        ax_e = axes[2]
        ax_e.plot([r["step"] for r in evals], [r["eval"][key] for r in evals], marker="o")
        if key == "fd":  # FD falls over orders of magnitude; an unbiased MMD² may dip below zero
            ax_e.set_yscale("log")
        ax_e.set_xlabel("iteration")
        ax_e.set_title("Fréchet distance (ganzoo eval)" if key == "fd" else "MMD² to real curves")
    fig.tight_layout()
    with atomic_path(Path(out)) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)


def rolling_mean(x: Any, window: int) -> Any:
    """The mean over each run of ``window`` consecutive points (source 004's smoothing); shorter rows."""
    import torch

    if window <= 1:
        return x
    return torch.nn.functional.avg_pool1d(x.unsqueeze(1), window, stride=1).squeeze(1)


def plot_curves(fake: Any, real: Any | None, out: Path, title: str = "", smooth: int = 0) -> None:
    """Generated sequences (and, beside them, real ones) as line plots in one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [
        ("generated" + (f" (rolling mean of {smooth})" if smooth > 1 else ""), rolling_mean(fake, smooth))
    ]
    if real is not None:
        panels.append(("real", real))
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 3.6), squeeze=False)
    for ax, (label, curves) in zip(axes[0], panels, strict=True):
        for row in curves[:8]:
            ax.plot(row.tolist(), linewidth=1)
        ax.set_title(f"{label} {title}".strip())
        ax.set_xlabel("point")
    fig.tight_layout()
    with atomic_path(Path(out)) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)
