"""Input checks and the blockwise helpers every metric shares."""

from __future__ import annotations

import math
from collections.abc import Iterator

import torch
from torch import Tensor

from ganzoo.errors import MetricsError

#: Most rows of one block of pairwise distances (or of one covariance update).
CHUNK_ROWS = 2048
#: Most entries of one block of pairwise distances: 2**25 float32 values are 128 MiB.
BLOCK_ELEMENTS = 2**25


def check_features(x: object, what: str, min_rows: int, why: str) -> Tensor:
    """``x`` as a real (N, D) tensor with at least ``min_rows`` rows, all finite; else MetricsError."""
    if not isinstance(x, Tensor):
        raise MetricsError(f"The {what} must be a torch tensor, not {type(x).__name__}.")
    if x.ndim != 2:
        raise MetricsError(f"The {what} must be a 2-D tensor of shape (N, D), not shape {tuple(x.shape)}.")
    if x.is_complex():
        raise MetricsError(f"The {what} must be real numbers, not {x.dtype}.")
    if not x.is_floating_point():
        x = x.to(torch.float32)
    n, d = x.shape
    if d == 0:
        raise MetricsError(f"The {what} have no dimensions (shape {tuple(x.shape)}).")
    if n < min_rows:
        raise MetricsError(f"The {what} have {n} rows, but {why} needs at least {min_rows}.")
    bad = int((~torch.isfinite(x)).any(dim=1).sum())
    if bad:
        raise MetricsError(
            f"The {what} have {bad} of {n} rows with NaN or infinite values; drop or fix them."
        )
    return x


def check_same_dims(a: Tensor, b: Tensor, what_a: str, what_b: str) -> None:
    if a.shape[1] != b.shape[1]:
        raise MetricsError(
            f"The {what_a} have {a.shape[1]} dimensions but the {what_b} have {b.shape[1]}; "
            "they must come from the same feature extractor."
        )


def check_shares(shares: object) -> Tensor:
    """``shares`` as a float64 1-D distribution (non-negative, finite, summing to 1 within 1e-4)."""
    if not isinstance(shares, Tensor):
        raise MetricsError(f"The class shares must be a torch tensor, not {type(shares).__name__}.")
    if shares.ndim != 1 or shares.numel() == 0:
        raise MetricsError(
            f"The class shares must be a non-empty 1-D tensor, not shape {tuple(shares.shape)}."
        )
    p = shares.to(torch.float64)
    if not bool(torch.isfinite(p).all()) or bool((p < 0).any()):
        raise MetricsError("The class shares must be finite and non-negative.")
    total = float(p.sum())
    if abs(total - 1.0) > 1e-4:
        raise MetricsError(
            f"The class shares must sum to 1, not {total:.6g}; use class_histogram to get them."
        )
    return p / total


def default_generator(generator: torch.Generator | None) -> torch.Generator:
    """The caller's generator, or a fresh one seeded with 0 so that results repeat run after run."""
    return generator if generator is not None else torch.Generator().manual_seed(0)


def subset(x: Tensor, size: int, generator: torch.Generator) -> Tensor:
    """``size`` distinct rows of ``x`` drawn at random (without replacement), in float64."""
    idx = torch.randperm(x.shape[0], generator=generator)[:size].to(x.device)
    return x[idx].to(torch.float64)


def row_chunks(n: int, cols: int) -> Iterator[tuple[int, int]]:
    """(start, stop) row ranges so that one block of ``rows × cols`` stays within the memory limits."""
    step = max(1, min(CHUNK_ROWS, BLOCK_ELEMENTS // max(cols, 1)))
    for start in range(0, n, step):
        yield start, min(start + step, n)


def distance_blocks(a: Tensor, b: Tensor, exclude_self: bool = False) -> Iterator[tuple[int, Tensor]]:
    """Euclidean distances from blocks of rows of ``a`` to all of ``b``: (first row, block).

    With ``exclude_self`` (``a`` is ``b``) the distance of each point to itself is set to +inf, so that it
    never counts as its own neighbour, even where the matrix-product form of ``cdist`` leaves it at 1e-3
    instead of 0.
    """
    for start, stop in row_chunks(a.shape[0], b.shape[0]):
        block = torch.cdist(a[start:stop], b)
        if exclude_self:
            rows = torch.arange(stop - start, device=block.device)
            block[rows, rows + start] = math.inf
        yield start, block


def check_logits(logits: object, what: str = "logits") -> Tensor:
    x = check_features(logits, what, 1, "a class distribution")
    if x.shape[1] < 2:
        raise MetricsError(f"The {what} need at least 2 classes, not {x.shape[1]}.")
    return x
