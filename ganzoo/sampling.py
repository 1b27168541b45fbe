"""Noise priors, the mapping between data and generator ranges, and sample grids."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch

from ganzoo.files import atomic_path


@contextmanager
def eval_mode(module: torch.nn.Module) -> Iterator[torch.nn.Module]:
    """``module`` in eval mode (BatchNorm running statistics, no Dropout), then back as it was."""
    was_training = module.training
    module.eval()
    try:
        yield module
    finally:
        module.train(was_training)


def noise(
    prior: str, n: int, dim: int, generator: torch.Generator | None, device: torch.device
) -> torch.Tensor:
    """``n`` latent vectors from ``prior``: normal N(0,1), uniform U(-1,1) or uniform01 U(0,1)."""
    if prior == "normal":
        return torch.randn(n, dim, generator=generator, device=device)
    z = torch.rand(n, dim, generator=generator, device=device)
    return z * 2 - 1 if prior == "uniform" else z


def rescale(x: torch.Tensor, src: tuple[float, float], dst: tuple[float, float]) -> torch.Tensor:
    """Map values linearly from the range ``src`` to the range ``dst``."""
    if tuple(src) == tuple(dst):
        return x
    scale = (dst[1] - dst[0]) / (src[1] - src[0])
    # One new tensor, not three: the whole training set goes through here once (188 MB for MNIST).
    return (x - src[0]).mul_(scale).add_(dst[0])


def grid_shape(n: int) -> tuple[int, int]:
    """Columns and rows for ``n`` tiles: width floor(sqrt(n)), height ceil(n / width) (the
    ``combine_images`` of Gildenblat's keras-dcgan, 2016: source 000)."""
    cols = max(1, math.isqrt(n))
    return cols, math.ceil(n / cols)


def save_grid(images: torch.Tensor, path: Path, columns: int | None = None) -> None:
    """Tile images (N, C, H, W) with values in [0, 1] into one PNG, written atomically.

    ``columns`` defaults to floor(sqrt(N)) (:func:`grid_shape`).
    """
    from torchvision.utils import save_image

    cols = columns or grid_shape(images.shape[0])[0]
    with atomic_path(Path(path)) as tmp:
        save_image(images.detach().float().cpu().clamp(0, 1), tmp, nrow=cols, padding=2, format="png")
