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
    prior: str,
    n: int,
    dim: int,
    generator: torch.Generator | None,
    device: torch.device,
    truncation: float = 1.0,
) -> torch.Tensor:
    """``n`` latent vectors from ``prior``: normal N(0,1), uniform U(-1,1) or uniform01 U(0,1).

    ``truncation`` ψ in (0, 1] pulls each vector toward the prior's centre, z ← c + ψ·(z − c) (c = 0,
    or 0.5 for uniform01): a normal prior becomes N(0, ψ²), a uniform one the interval ψ times as
    wide. This is StyleGAN's ψ applied to z (Karras et al. 2019, section 3.1), chosen over BigGAN's
    resampled truncated normal because the same draws serve every ψ: the samples of one seed change
    smoothly as ψ falls, from the full variety at 1 toward the prior's centre.
    """
    if prior == "normal":
        z = torch.randn(n, dim, generator=generator, device=device)
    else:
        z = torch.rand(n, dim, generator=generator, device=device)
        z = z * 2 - 1 if prior == "uniform" else z
    if truncation != 1.0:
        centre = 0.5 if prior == "uniform01" else 0.0
        z = centre + truncation * (z - centre)
    return z


def rescale(x: torch.Tensor, src: tuple[float, float], dst: tuple[float, float]) -> torch.Tensor:
    """Map values linearly from the range ``src`` to the range ``dst``."""
    if tuple(src) == tuple(dst):
        return x
    scale = (dst[1] - dst[0]) / (src[1] - src[0])
    # One new tensor, not three: the whole training set goes through here once (188 MB for MNIST).
    return (x - src[0]).mul_(scale).add_(dst[0])


def ready(
    x: torch.Tensor, out_range: tuple[float, float], modality: str, value_range: tuple[float, float]
) -> torch.Tensor:
    """A generator's raw output (in its activation's ``out_range``) as samples, float32: images in
    [0, 1], clamped (a pixel cannot be brighter than white); sequences in the data's ``value_range``,
    not clamped (a generator with an unbounded output may overshoot it, and that is a figure to see).
    The one place this mapping lives: training grids, loaded generators, eval and ONNX use it."""
    x = x.float()
    if modality == "image":
        return rescale(x, out_range, (0.0, 1.0)).clamp(0, 1)
    return rescale(x, out_range, value_range)


def grid_shape(n: int) -> tuple[int, int]:
    """Columns and rows for ``n`` tiles: width floor(sqrt(n)), height ceil(n / width) (the
    ``combine_images`` of Gildenblat's keras-dcgan, 2016: source 000)."""
    cols = max(1, math.isqrt(n))
    return cols, math.ceil(n / cols)


def tile(images: torch.Tensor, columns: int | None = None, padding: int = 2) -> torch.Tensor:
    """Images (N, C, H, W) laid out in one (C, H', W') grid, ``padding`` black pixels around each
    tile (torchvision's ``make_grid`` layout, without importing torchvision: 170 MB of memory).
    One image is returned as it is, unpadded, as ``make_grid`` does."""
    n, c, h, w = images.shape
    if n == 1:
        return images[0]
    cols = min(n, columns or grid_shape(n)[0])
    rows = math.ceil(n / cols)
    grid = images.new_zeros(c, rows * (h + padding) + padding, cols * (w + padding) + padding)
    for i in range(n):
        y, x = divmod(i, cols)
        top, left = y * (h + padding) + padding, x * (w + padding) + padding
        grid[:, top : top + h, left : left + w] = images[i]
    return grid


def save_grid(
    images: torch.Tensor, path: Path, columns: int | None = None, text: dict[str, str] | None = None
) -> None:
    """Tile images (N, C, H, W) with values in [0, 1] into one PNG, written atomically.

    ``columns`` defaults to floor(sqrt(N)) (:func:`grid_shape`). One channel is saved as a grey
    PNG, three as RGB. ``text``: key-value pairs kept in the PNG's text chunks.
    """
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    grid = tile(images.detach().float().cpu().clamp(0, 1), columns)
    pixels = grid.mul(255).add_(0.5).clamp_(0, 255).to(torch.uint8).permute(1, 2, 0).contiguous()
    height, width, channels = pixels.shape
    if channels not in (1, 3):
        raise ValueError(f"save_grid saves images of 1 or 3 channels, got {channels}.")
    image = Image.frombytes("L" if channels == 1 else "RGB", (width, height), pixels.numpy().tobytes())
    info = None
    if text:
        info = PngInfo()
        for key, value in text.items():
            info.add_text(key, value)
    with atomic_path(Path(path)) as tmp:
        image.save(tmp, format="PNG", pnginfo=info)


def grid_columns(n: int, classes: int) -> int | None:
    """The columns of a conditional grid of ``n`` samples: n / classes when that is whole, so that
    each row is one class; otherwise None, the default width (:func:`grid_shape`)."""
    return n // classes if n >= classes and n % classes == 0 else None


def grid_labels(n: int, classes: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """The class of each sample of a conditional grid: every class in order, as evenly as ``n``
    allows (sample i is class ⌊i·classes / n⌋); one class a row when ``n`` is a multiple of them."""
    return torch.arange(n, device=device) * classes // n
