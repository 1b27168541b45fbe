"""A trained generator rebuilt from its file, as a torch module that knows how to sample itself."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import torch
from torch import nn

from ganzoo.components import DataSpec, Generator
from ganzoo.errors import RunDirError
from ganzoo.record import RunRecord
from ganzoo.sampling import eval_mode, noise, rescale
from ganzoo.settings import RunConfig

if TYPE_CHECKING:
    from ganzoo.manager import PluginManager


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation between rows of ``a`` and ``b`` at fractions ``t`` (White, 2016).

    Points of a normal prior live near a sphere; a straight line between two of them passes
    through the low-density middle, the arc does not. Nearly parallel pairs fall back to a line.
    """
    a64, b64 = a.double(), b.double()
    cos = (a64 * b64).sum(-1, keepdim=True) / (
        a64.norm(dim=-1, keepdim=True) * b64.norm(dim=-1, keepdim=True)
    )
    omega = torch.arccos(cos.clamp(-1.0, 1.0))
    sin = torch.sin(omega)
    t = t.double().view(1, -1, 1)
    omega, sin = omega.unsqueeze(1), sin.unsqueeze(1)
    a64, b64 = a64.unsqueeze(1), b64.unsqueeze(1)
    arc = (torch.sin((1 - t) * omega) * a64 + torch.sin(t * omega) * b64) / sin.clamp_min(1e-12)
    line = (1 - t) * a64 + t * b64
    return torch.where(sin > 1e-6, arc, line).to(a.dtype)  # (rows, steps, latent)


class LoadedGenerator(nn.Module):
    """The generator of a run: ``g(z)`` is its raw output, ``g.sample(n, seed=...)`` ready samples.

    ``module`` is the plugin's own generator; ``record`` the run's record (``record.config`` its
    resolved configuration); ``spec`` the data it was trained on; ``ema`` whether these are the
    moving-average weights.
    """

    def __init__(self, module: Generator, record: RunRecord, device: torch.device, ema: bool = False) -> None:
        super().__init__()
        self.module = module.to(device).eval()
        self.record, self.device, self.ema = record, device, ema

    @property
    def config(self) -> RunConfig:
        return self.record.config

    @property
    def spec(self) -> DataSpec:
        return self.record.data

    @property
    def latent_dim(self) -> int:
        return self.config.train.latent_dim

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.module(z)
        return out

    def noise(self, n: int, seed: int | None = None) -> torch.Tensor:
        """``n`` latent vectors from the run's prior; the same seed gives the same vectors."""
        gen = torch.Generator(device=self.device)
        gen.manual_seed(seed if seed is not None else int(torch.seed() & 0x7FFFFFFF))
        return noise(self.config.train.prior, n, self.latent_dim, gen, self.device)

    @torch.inference_mode()
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Samples for latent vectors ``z``: images in [0, 1], sequences in the data's range."""
        with eval_mode(self.module) as g:
            x = g(z.to(self.device)).float()
        out_range = type(self.module).output_range()
        if self.spec.modality == "image":
            return rescale(x, out_range, (0.0, 1.0)).clamp(0, 1)
        return rescale(x, out_range, self.spec.value_range)

    def sample(self, n: int, seed: int | None = None) -> torch.Tensor:
        """``n`` samples from the generator in eval mode; same seed, same samples."""
        return self.decode(self.noise(n, seed))

    def interpolate(self, rows: int, steps: int = 10, seed: int | None = None) -> torch.Tensor:
        """``rows`` walks of ``steps`` samples each between two random latent points, (rows·steps, ...).

        The walk is spherical (slerp) for a normal prior and a straight line for uniform ones,
        whose cube a straight line never leaves.
        """
        ends = self.noise(2 * rows, seed)
        a, b = ends[:rows], ends[rows:]
        t = torch.linspace(0, 1, steps, device=self.device)
        if self.config.train.prior == "normal":
            z = slerp(a, b, t)
        else:
            z = (1 - t.view(1, -1, 1)) * a.unsqueeze(1) + t.view(1, -1, 1) * b.unsqueeze(1)
        return self.decode(z.reshape(rows * steps, -1))


def from_file(
    path: Path, device: str = "cpu", manager: PluginManager | None = None, ema: bool = False
) -> LoadedGenerator:
    """The generator a ``generator.safetensors`` file holds (its metadata carries the run's record)."""
    from ganzoo import build, checkpoint
    from ganzoo.devices import resolve_device
    from ganzoo.manager import get_manager

    tensors, doc = checkpoint.load_weights(Path(path), "generator")
    # A record that is JSON but not a run record (a hand edit, a flipped bit in a value) is one
    # sentence naming the file and the bad key, not a failure deep in building the generator.
    record = RunRecord.from_json(doc, where=f"The run record in {path}'s metadata is damaged")
    # The component that trained, by its qualified name, in case two plugins now share the short one.
    record.config.generator = record.components.get("generator", record.config.generator)
    c = build.component(manager or get_manager(), "generator", record.config.generator, record=record)
    g = build.build_generator(c, record.config, record.data)
    try:
        g.load_state_dict(tensors)
    except RuntimeError as exc:
        raise RunDirError(f"{path} does not fit the generator '{record.config.generator}' it names.") from exc
    return LoadedGenerator(g, record, resolve_device(device), ema)
