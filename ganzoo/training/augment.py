"""Differentiable augmentation of the images D sees (DiffAugment, Zhao et al. 2020, "Differentiable
Augmentation for Data-Efficient GAN Training"): the same random colour, translation and cutout on
real and generated batches, differentiable, so that G learns through them and D cannot overfit
the few real images it has seen.

The policy is the ``augment`` training setting, a comma-separated list of ``color``,
``translation`` and ``cutout``. Every random number comes from the generator passed in (the
trainer's noise stream), so a seeded run repeats and a resumed one continues exactly.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

#: The share of the image side a translation may move it by, and a cutout square's side (the paper's).
TRANSLATION_RATIO = 0.125
CUTOUT_RATIO = 0.5


def _uniform(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """One U[0, 1) per sample, shaped to broadcast over (N, C, H, W)."""
    return torch.rand(x.shape[0], 1, 1, 1, generator=g, device=x.device, dtype=x.dtype)


def color(x: torch.Tensor, g: torch.Generator, value_range: tuple[float, float]) -> torch.Tensor:
    """Random brightness (± half the range), saturation (× [0, 2)) and contrast (× [0.5, 1.5)),
    clipped back into the images' range."""
    low, high = value_range
    span = high - low
    x = x + (_uniform(x, g) - 0.5) * span
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * (_uniform(x, g) * 2) + mean
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    x = (x - mean) * (_uniform(x, g) + 0.5) + mean
    return x.clamp(low, high)


def translation(x: torch.Tensor, g: torch.Generator, ratio: float = TRANSLATION_RATIO) -> torch.Tensor:
    """Shift each image by up to ``ratio`` of its height and width, filling with zeros."""
    n, _, h, w = x.shape
    dy, dx = max(1, round(h * ratio)), max(1, round(w * ratio))
    shift_y = torch.randint(-dy, dy + 1, (n, 1, 1), generator=g, device=x.device)
    shift_x = torch.randint(-dx, dx + 1, (n, 1, 1), generator=g, device=x.device)
    padded = F.pad(x, (dx, dx, dy, dy))
    rows = torch.arange(h, device=x.device).view(1, h, 1) + dy - shift_y  # (n, h, 1) source rows
    cols = torch.arange(w, device=x.device).view(1, 1, w) + dx - shift_x  # (n, 1, w) source columns
    batch = torch.arange(n, device=x.device).view(n, 1, 1)
    return padded.permute(0, 2, 3, 1)[batch, rows, cols].permute(0, 3, 1, 2)


def cutout(x: torch.Tensor, g: torch.Generator, ratio: float = CUTOUT_RATIO) -> torch.Tensor:
    """Zero one square of ``ratio`` of the image side at a random place (it may overlap the edge)."""
    n, _, h, w = x.shape
    size_y, size_x = max(1, round(h * ratio)), max(1, round(w * ratio))
    top = torch.randint(0, h + 1 - size_y % 2, (n, 1, 1), generator=g, device=x.device) - size_y // 2
    left = torch.randint(0, w + 1 - size_x % 2, (n, 1, 1), generator=g, device=x.device) - size_x // 2
    ys = torch.arange(h, device=x.device).view(1, h, 1)
    xs = torch.arange(w, device=x.device).view(1, 1, w)
    inside = (ys >= top) & (ys < top + size_y) & (xs >= left) & (xs < left + size_x)
    return x * (~inside).unsqueeze(1).to(x.dtype)


#: The ops in the order DiffAugment applies them.
OPS = ("color", "translation", "cutout")


def policy(text: str) -> tuple[str, ...]:
    """The ops a policy string names, in DiffAugment's order; unknown names are refused by the schema."""
    named = {p.strip() for p in text.split(",") if p.strip()}
    return tuple(op for op in OPS if op in named)


def augmenter(
    text: str, g: torch.Generator, value_range: tuple[float, float]
) -> Callable[[torch.Tensor], torch.Tensor] | None:
    """The augmentation of a policy, or None for an empty one (then nothing is drawn)."""
    ops = policy(text)
    if not ops:
        return None

    def augment(x: torch.Tensor) -> torch.Tensor:
        for op in ops:
            x = (
                color(x, g, value_range)
                if op == "color"
                else translation(x, g)
                if op == "translation"
                else cutout(x, g)
            )
        return x

    return augment
