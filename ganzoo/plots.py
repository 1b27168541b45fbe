"""losses.png: the curves of metrics.jsonl, drawn with matplotlib off-screen."""

from __future__ import annotations

import json
from pathlib import Path

from ganzoo.files import atomic_path


def plot_losses(metrics: Path, out: Path) -> None:
    """D and G loss on the left, D(x) and D(G(z)) on the right, against iterations."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [json.loads(line) for line in Path(metrics).read_text().splitlines() if line.strip()]
    if not rows:
        return
    steps = [r["step"] for r in rows]
    fig, (ax_loss, ax_d) = plt.subplots(1, 2, figsize=(11, 4))
    for key, label in (("d_loss", "D loss"), ("g_loss", "G loss")):
        ax_loss.plot(steps, [r[key] for r in rows], label=label)
    ax_loss.set_xlabel("iteration")
    ax_loss.set_title("losses")
    ax_loss.legend()
    for key, label in (("d_real", "D(x)"), ("d_fake", "D(G(z))"), ("d_acc", "D accuracy")):
        ax_d.plot(steps, [r[key] for r in rows], label=label)
    ax_d.set_ylim(0, 1)
    ax_d.set_xlabel("iteration")
    ax_d.set_title("discriminator")
    ax_d.legend()
    fig.tight_layout()
    with atomic_path(Path(out)) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)
