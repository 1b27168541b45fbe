"""``ganzoo export RUN --format onnx -o FILE.onnx``: the generator as an ONNX graph.

Inputs ``z`` (N, latent_dim) float32 noise from the run's prior and, for a conditional run,
``labels`` (N,) int64 classes; output ``samples`` (N, *shape): images in [0, 1] (as ``generate``
gives them), sequences in the data's value range; N is dynamic. torch's exporter (``dynamo=True``)
writes it; ``pip install 'ganzoo[onnx]'`` brings onnx and onnxscript, and onnxruntime to run it.
"""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path
from typing import Any

import torch

from ganzoo.errors import PluginError, UsageError, first_line
from ganzoo.sampling import ready

#: The ONNX opset it writes (onnxruntime 1.18 and later run it).
OPSET = 18


class Sampler(torch.nn.Module):
    """A loaded generator as the ONNX graph runs it: noise (and labels) in, ready samples out."""

    def __init__(self, g: Any) -> None:
        super().__init__()
        self.generator = g.module
        self.out_range = type(g.module).output_range()
        self.modality, self.value_range = g.spec.modality, tuple(g.spec.value_range)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        x = self.generator(z) if labels is None else self.generator(z, labels)
        return ready(x, self.out_range, self.modality, self.value_range)


def export_onnx(run: Path, out: Path, manager: Any = None) -> Path:
    """Write the generator of ``run`` (a run directory, hub folder or generator file) to ``out``."""
    missing = [m for m in ("onnx", "onnxscript") if importlib.util.find_spec(m) is None]
    if missing:
        raise UsageError(
            f"--format onnx needs the {' and '.join(missing)} package{'s' if len(missing) > 1 else ''}, "
            "which is not installed: pip install 'ganzoo[onnx]'."
        )
    out = Path(out)
    if out.suffix.lower() != ".onnx":
        raise UsageError(f"-o {out}: --format onnx writes a .onnx file.")
    from ganzoo.files import atomic_path
    from ganzoo.rundir import load_generator

    g = load_generator(run, manager=manager)
    module = Sampler(g).eval()
    z = g.noise(2, seed=0)
    args: tuple[torch.Tensor, ...] = (z,)
    names = ["z"]
    batch = torch.export.Dim("batch", min=1)
    shapes: dict[str, Any] = {"z": {0: batch}}
    if g.classes:
        args, names = (z, torch.zeros(2, dtype=torch.long, device=z.device)), ["z", "labels"]
        shapes["labels"] = {0: batch}
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as tmp, warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the exporter's notes on its own internals
        try:
            torch.onnx.export(
                module, args, str(tmp), input_names=names, output_names=["samples"],
                dynamic_shapes=shapes, dynamo=True, opset_version=OPSET, external_data=False, verbose=False,
            )  # fmt: skip
        except Exception as exc:  # a plugin's network torch.export cannot trace
            raise PluginError(
                f"The generator '{g.config.generator}' cannot be exported to ONNX: "
                f"{type(exc).__name__}: {first_line(exc)[:300]}."
            ) from exc
    return out
