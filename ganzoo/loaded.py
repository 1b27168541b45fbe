"""A trained generator rebuilt from its file, as a torch module that knows how to sample itself."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from torch import nn

from ganzoo.components import DataSpec, Generator
from ganzoo.errors import RunDirError, UsageError
from ganzoo.record import RunRecord
from ganzoo.sampling import eval_mode, grid_labels, noise, ready
from ganzoo.settings import RunConfig, check_truncation

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


#: What ``labels`` may be where a conditional generator samples: None (one class a row, as the
#: training grids), a class (its name or its number) for every sample, or one class a sample.
Labels = int | str | Sequence[int | str] | torch.Tensor | None


class LoadedGenerator(nn.Module):
    """The generator of a run: ``g(z)`` is its raw output, ``g.sample(n, seed=...)`` ready samples.

    ``module`` is the plugin's own generator; ``record`` the run's record (``record.config`` its
    resolved configuration); ``spec`` the data it was trained on; ``ema`` whether these are the
    moving-average weights. A conditional run's generator (:attr:`classes` not empty) samples the
    classes it is asked for: ``g.sample(16, labels="7")``, ``g(z, labels)``.
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

    @property
    def classes(self) -> tuple[str, ...]:
        """The names of the classes it generates on demand (label order); () unless conditional."""
        return tuple(self.spec.classes) if self.config.train.conditional else ()

    def class_label(self, cls: int | str) -> int:
        """The label of a class given by name (``"sneaker"``, ``"7"``) or number; one sentence if
        there is no such class, or the generator is not conditional."""
        classes = self.classes
        if not classes:
            raise UsageError(
                "This generator was trained without class labels (not --conditional), so it cannot "
                "generate a chosen class."
            )
        if isinstance(cls, str):
            if cls in classes:
                return classes.index(cls)
            folded = [c.casefold() for c in classes]
            if cls.strip().casefold() in folded:
                return folded.index(cls.strip().casefold())
            if not re.fullmatch(r"\s*-?[0-9]+\s*", cls):  # ASCII digits: what int() takes
                raise UsageError(f"There is no class '{cls:.60}'; the classes are {_listed(classes)}.")
            cls = int(cls)
        elif not isinstance(cls, (bool, int)) and hasattr(cls, "__index__"):  # numpy or 0-d torch ints
            cls = int(cls.__index__())
        if isinstance(cls, bool) or not isinstance(cls, int) or not 0 <= cls < len(classes):
            raise UsageError(
                f"There is no class {cls!r:.60}: give a name ({_listed(classes)}) or a number from 0 to "
                f"{len(classes) - 1}."
            )
        return cls

    def labels(self, n: int, labels: Labels = None) -> torch.Tensor | None:
        """``n`` class labels on the device for ``labels`` (see :data:`Labels`); None unconditional."""
        if not self.classes:
            if labels is not None:
                self.class_label(0)  # the sentence: this generator takes no labels
            return None
        if labels is None:
            return grid_labels(n, len(self.classes), self.device)
        if isinstance(labels, (int, str)) or (isinstance(labels, torch.Tensor) and labels.dim() == 0):
            return torch.full((n,), self.class_label(labels), dtype=torch.long, device=self.device)  # type: ignore[arg-type]
        if isinstance(labels, torch.Tensor) and not labels.is_floating_point() and labels.dtype != torch.bool:
            if len(labels) != n:
                raise UsageError(f"{len(labels)} labels were given for {n} samples; give one a sample.")
            low, high = (int(labels.min()), int(labels.max())) if n else (0, 0)
            if low < 0 or high >= len(self.classes):
                self.class_label(low if low < 0 else high)  # the sentence for a class that does not exist
            return labels.to(self.device, torch.long)
        items = labels.tolist() if isinstance(labels, torch.Tensor) else list(labels)
        if len(items) != n:
            raise UsageError(f"{len(items)} labels were given for {n} samples; give one a sample.")
        return torch.tensor([self.class_label(x) for x in items], dtype=torch.long, device=self.device)

    def forward(self, z: torch.Tensor, labels: Labels = None) -> torch.Tensor:
        """The raw output for ``z``; a conditional generator's of ``labels`` (see :data:`Labels`;
        None: one class a row, as :meth:`sample`)."""
        y = self.labels(len(z), labels)
        out: torch.Tensor = self.module(z) if y is None else self.module(z, y)
        return out

    def noise(self, n: int, seed: int | None = None, truncation: float = 1.0) -> torch.Tensor:
        """``n`` latent vectors from the run's prior; the same seed gives the same vectors (pulled
        toward the prior's centre by ``truncation`` ψ < 1, :func:`ganzoo.sampling.noise`)."""
        gen = torch.Generator(device=self.device)
        gen.manual_seed(seed if seed is not None else int(torch.seed() & 0x7FFFFFFF))
        psi = check_truncation(truncation)
        return noise(self.config.train.prior, n, self.latent_dim, gen, self.device, psi)

    @torch.inference_mode()
    def decode(self, z: torch.Tensor, labels: Labels = None) -> torch.Tensor:
        """Samples for latent vectors ``z`` (of ``labels``, for a conditional generator): images in
        [0, 1], sequences in the data's range."""
        y = self.labels(len(z), labels)
        with eval_mode(self.module) as g:
            z = z.to(self.device)
            x = g(z) if y is None else g(z, y)
        return ready(x, type(self.module).output_range(), self.spec.modality, self.spec.value_range)

    def sample(
        self, n: int, seed: int | None = None, labels: Labels = None, truncation: float = 1.0
    ) -> torch.Tensor:
        """``n`` samples from the generator in eval mode; same seed, same samples. A conditional
        generator makes the classes ``labels`` asks for (see :data:`Labels`); ``truncation`` ψ < 1
        trades variety for typicality (see :func:`ganzoo.sampling.noise`)."""
        return self.decode(self.noise(n, seed, truncation), labels)

    def interpolate(
        self,
        rows: int,
        steps: int = 10,
        seed: int | None = None,
        labels: Labels = None,
        truncation: float = 1.0,
    ) -> torch.Tensor:
        """``rows`` walks of ``steps`` samples each between two random latent points, (rows·steps, ...).

        The walk is spherical (slerp) for a normal prior and a straight line for uniform ones,
        whose cube a straight line never leaves. A conditional generator walks row r in class r
        (round again after the last), or in the class of ``labels`` (one, or one a row).
        """
        ends = self.noise(2 * rows, seed, truncation)
        a, b = ends[:rows], ends[rows:]
        t = torch.linspace(0, 1, steps, device=self.device)
        if self.config.train.prior == "normal":
            z = slerp(a, b, t)
        else:
            z = (1 - t.view(1, -1, 1)) * a.unsqueeze(1) + t.view(1, -1, 1) * b.unsqueeze(1)
        y = None
        if self.classes:
            per_row = self.labels(rows, labels) if labels is not None else None
            if per_row is None:
                per_row = torch.arange(rows, device=self.device) % len(self.classes)
            y = per_row.repeat_interleave(steps)
        elif labels is not None:
            self.labels(rows, labels)  # the sentence: this generator takes no labels
        return self.decode(z.reshape(rows * steps, -1), y)


def _listed(classes: Sequence[str]) -> str:
    """The classes as a message lists them: all of them, or the first twelve and how many more."""
    shown = ", ".join(classes[:12])
    return shown if len(classes) <= 12 else f"{shown} and {len(classes) - 12} more"


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
    try:
        g = build.build_generator(c, record.config, record.data)
    except UsageError as exc:  # the record's own hyperparameters: a damaged value, or a plugin changed since
        raise RunDirError(f"The run record in {path}'s metadata does not build its generator: {exc}") from exc
    try:
        g.load_state_dict(tensors)
    except RuntimeError as exc:
        raise RunDirError(f"{path} does not fit the generator '{record.config.generator}' it names.") from exc
    return LoadedGenerator(g, record, resolve_device(device), ema)
