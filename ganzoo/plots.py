"""Pictures of a run, drawn off-screen: losses.png from metrics.jsonl, the sample grids as a GIF,
a grid as text for the terminal, and curves for sequence data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ganzoo import figures
from ganzoo.files import atomic_path


def plot_losses(log: Path, out: Path) -> None:
    """D and G loss on the left, D(x) and D(G(z)) in the middle, eval figures (if any) right."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ganzoo.rundir import read_log

    lines = read_log(Path(log))
    # Only rows with every figure drawn, as a number: a hand-edited or damaged line is left out. A
    # pairwise loss logs how D rates real samples against their fake partners instead of D(x), D(G(z)).
    pairwise = any("d_pair" in r for r in lines)
    d_names = ("d_pair", "d_pair_acc") if pairwise else ("d_real", "d_fake", "d_acc")
    names = ("d_loss", "g_loss", *d_names)
    rows = [r for r in lines if all(isinstance(r.get(k), (int, float)) for k in names)]
    evals = [r for r in lines if isinstance(r.get("eval"), dict)]
    if not rows:
        return
    steps = [r["step"] for r in rows]
    # --eval-every adds a third panel: the headline figure of `ganzoo eval` against iterations.
    key = next((k for k in ("fd", "mmd") if evals and k in evals[0]["eval"]), None)
    evals = [r for r in evals if isinstance(r["eval"].get(key), (int, float))]
    fig, axes = plt.subplots(1, 3 if key else 2, figsize=(16 if key else 11, 4))
    ax_loss, ax_d = axes[0], axes[1]
    # Each figure raw (faint) and smoothed over a twentieth of the run (solid, same colour).
    window = max(1, len(rows) // 20)
    for name in ("d_loss", "g_loss"):
        _raw_and_smoothed(ax_loss, steps, [r[name] for r in rows], figures.label(name), window)
    ax_loss.set_xlabel("iteration")
    ax_loss.set_title("losses" + (f" (smoothed over {window} logged steps)" if window > 1 else ""))
    ax_loss.legend()
    for name in d_names:
        _raw_and_smoothed(ax_d, steps, [r[name] for r in rows], figures.label(name), window)
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
        ax_e.set_title(f"{figures.label(key)} (ganzoo eval)")
    fig.tight_layout()
    with atomic_path(Path(out)) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)


def _raw_and_smoothed(ax: Any, steps: list[int], values: list[float], label: str, window: int) -> None:
    if window <= 1:
        ax.plot(steps, values, label=label)
        return
    (raw,) = ax.plot(steps, values, alpha=0.25, linewidth=0.8)
    smooth = [sum(values[i : i + window]) / window for i in range(len(values) - window + 1)]
    ax.plot(steps[window - 1 :], smooth, color=raw.get_color(), label=label)


def animation(samples: Path, out: Path, max_frames: int = 120) -> int:
    """The sample grids of a run (samples/step-*.png), in step order, as one looping GIF.

    At most ``max_frames`` frames, evenly spaced, the last grid always included; each frame
    shows for 0.2 s and the last for 2 s. Returns the number of frames (0: nothing written).
    """
    from PIL import Image

    grids = sorted(Path(samples).glob("step-*.png"))
    if not grids:
        return 0
    if len(grids) > max_frames:
        picks = {round(i * (len(grids) - 1) / (max_frames - 1)) for i in range(max_frames)}
        grids = [g for i, g in enumerate(grids) if i in picks]
    frames = []
    for path in grids:
        with Image.open(path) as im:
            frames.append(im.convert("RGB"))
    durations = [200] * (len(frames) - 1) + [2000]
    with atomic_path(Path(out)) as tmp:
        frames[0].save(tmp, format="GIF", save_all=True, append_images=frames[1:], duration=durations, loop=0)
    return len(frames)


def grid_as_text(path: Path, width: int) -> Any:
    """A picture as rich Text for the terminal: each character cell is one pixel wide and two
    tall ("▀" with the upper pixel as its colour and the lower as its background)."""
    from PIL import Image
    from rich.color import Color
    from rich.style import Style
    from rich.text import Text

    with Image.open(path) as im:
        rgb = im.convert("RGB")
    width = max(1, min(width, rgb.width))
    height = max(2, round(rgb.height * width / rgb.width / 2) * 2)
    small = rgb.resize((width, height), Image.Resampling.BOX)
    data = small.tobytes()  # RGB, row by row
    text = Text()

    def pixel(x: int, y: int) -> Color:
        i = 3 * (y * width + x)
        return Color.from_rgb(data[i], data[i + 1], data[i + 2])

    for y in range(0, height, 2):
        for x in range(width):
            text.append("▀", Style(color=pixel(x, y), bgcolor=pixel(x, y + 1)))
        if y + 2 < height:
            text.append("\n")
    return text


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
