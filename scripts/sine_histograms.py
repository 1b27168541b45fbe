"""Histograms of the fitted frequencies and phases of a sine run's curves against the data's.

    python scripts/sine_histograms.py RUN [-n 1000] [--seed 0] -o sine-hist.png

Samples n curves from the run's generator, fits y ≈ A·sin(ωt + φ) + c to each (the fit of
``ganzoo eval``), and draws the histogram of ω and of φ over the curves that are sines (RMS
residual ≤ 0.05, amplitude within 20% of the data's) beside the same for n curves of the test
split. It prints the share of sines and the Kolmogorov-Smirnov distances, the figures
docs/results.md publishes.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import torch

import ganzoo
from ganzoo.plugins.sine import AMPLITUDE_OK, SINE_OK, Sine
from ganzoo.plugins.sine_fit import ks_distance, sine_fit_params, sine_phase


def fitted(
    curves: torch.Tensor, t: torch.Tensor, amplitude: float | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per curve: whether it is a sine (RMS residual ≤ SINE_OK and, given the data's ``amplitude``,
    a fitted amplitude within AMPLITUDE_OK of it, as ``ganzoo eval`` counts them); its ω and φ over
    the sines only; and every curve's fitted amplitude."""
    residual, omega = sine_fit_params(curves, t)
    amp, phase = sine_phase(curves, t, omega)
    sines = residual < SINE_OK
    if amplitude is not None:
        sines &= (amp - amplitude).abs() <= AMPLITUDE_OK * amplitude
    return sines, omega[sines], phase[sines], amp


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("-n", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("-o", "--out", type=Path, required=True)
    args = parser.parse_args()

    g = ganzoo.load_generator(args.run)
    params = g.config.params["dataset"]
    data = Sine(**params)
    t = data.positions()
    fake = g.sample(args.n, seed=args.seed).double()
    real = data.load("test")[: args.n].double()
    real_sines, real_w, real_phi, real_amp = fitted(real, t)
    fake_sines, fake_w, fake_phi, _ = fitted(fake, t, float(real_amp.mean()))
    ks_w, ks_phi = ks_distance(fake_w, real_w), ks_distance(fake_phi, real_phi)
    share, real_share = float(fake_sines.double().mean()), float(real_sines.double().mean())
    print(f"sines: generated {share:.3f}, real {real_share:.3f}")
    print(f"KS distance from the data: frequency {ks_w:.3f}, phase {ks_phi:.3f}")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    panels = (
        (axes[0], real_w, fake_w, "fitted frequency ω", (0.5, 2.5), f"frequency (KS {ks_w:.3f})"),
        (axes[1], real_phi, fake_phi, "fitted phase φ", (0.0, 2 * math.pi), f"phase (KS {ks_phi:.3f})"),
    )
    for ax, r, f, xlabel, bounds, title in panels:
        bins = torch.linspace(*bounds, 31).tolist()
        ax.hist(r.tolist(), bins=bins, alpha=0.5, density=True, label="data (test split)")
        # no generated sines: an empty histogram (density of nothing) would be 0/0
        ax.hist(f.tolist(), bins=bins, alpha=0.5, density=len(f) > 0, label=f"generated ({len(f)} sines)")
        ax.set_xlabel(xlabel)
        ax.set_title(title)
        ax.legend()
    fig.suptitle(
        f"{args.run.name}: {float(fake_sines.double().mean()):.0%} of {args.n} generated curves are sines"
    )
    fig.tight_layout()
    fig.savefig(args.out, dpi=100)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
