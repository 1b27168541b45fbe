"""What a sine run's discriminator scores real sines of each frequency: can D see the frequency?

    python scripts/sine_d_probe.py RUN [-n 400] [--seed 5]

Builds the run's discriminator from the record in its ``discriminator.safetensors`` and prints its
mean logit on n real sine curves (random phases) at each of seven frequencies ω, the data's
[1, 2) and a little beyond. A D whose logits hardly change with ω gives G no signal to spread its
frequencies: docs/results.md ("sine-1d on sine curves") publishes these lines.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from ganzoo import build, checkpoint
from ganzoo.manager import get_manager
from ganzoo.plugins.sine import Sine
from ganzoo.record import RunRecord

FREQUENCIES = (0.8, 1.0, 1.25, 1.5, 1.75, 2.0, 2.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("-n", type=int, default=400, help="curves per frequency")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()

    path = args.run / "discriminator.safetensors"
    tensors, doc = checkpoint.load_weights(path, "discriminator")
    record = RunRecord.from_json(doc, where=f"The run record in {path}'s metadata is damaged")
    c = build.component(get_manager(), "discriminator", record.config.discriminator, record=record)
    d = build.build_discriminator(c, record.config, record.data)
    d.load_state_dict(tensors)
    d.eval()
    t = Sine(**record.config.params["dataset"]).positions()
    g = torch.Generator().manual_seed(args.seed)
    scores = []
    for w in FREQUENCIES:
        offset = torch.rand(args.n, 1, generator=g, dtype=torch.float64) * 100
        with torch.no_grad():
            scores.append(float(d(torch.sin(offset + t * w).float()).mean()))
    print(f"{args.run.name}: D's mean logit on real sines of frequency ω")
    print("  ".join(f"ω {w}: {s:+.3f}" for w, s in zip(FREQUENCIES, scores, strict=True)))
    print(f"spread over ω (max - min): {max(scores) - min(scores):.3f}")


if __name__ == "__main__":
    main()
