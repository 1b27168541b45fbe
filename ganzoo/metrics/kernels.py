"""Kernel distances: KID's cubic-kernel MMD (Bińkowski et al. 2018) and an RBF MMD for curves."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ganzoo.errors import MetricsError
from ganzoo.metrics.checks import check_features, check_same_dims, default_generator, distance_blocks, subset


def _cubic_kernel_sum(a: Tensor, b: Tensor, d: int, off_diagonal: bool) -> Tensor:
    """Σ_ij (a_i·b_j / d + 1)³ for each of a batch (S, m, d) of subset pairs; without i = j if asked."""
    kernel = torch.bmm(a, b.mT).div_(d).add_(1).pow_(3)
    total = kernel.sum(dim=(1, 2))
    return total - kernel.diagonal(dim1=1, dim2=2).sum(dim=1) if off_diagonal else total


def kernel_inception_distance(
    x: Tensor,
    y: Tensor,
    subsets: int = 100,
    subset_size: int = 1000,
    generator: torch.Generator | None = None,
) -> tuple[float, float]:
    """KID (Bińkowski et al., 2018, "Demystifying MMD GANs"): mean and std of MMD² over random subsets.

    Each of ``subsets`` rounds draws ``subset_size`` rows of ``x`` and of ``y`` without replacement (the size
    capped at ``min(len(x), len(y))``) and takes the unbiased MMD² estimate with the cubic polynomial kernel
    k(a, b) = (a·b / d + 1)³: the off-diagonal means of K_xx and K_yy minus twice the full mean of K_xy.
    This is torch-fidelity's and clean-fid's definition (the std is the population std over subsets, as in
    torch-fidelity), so numbers compare with published ones. The polynomial kernel needs no bandwidth, and
    the estimator is unbiased, so it can be slightly negative when the two sets share a distribution;
    it is not clamped. Passing the very same set twice gives a small negative mean, about
    -2·(mean k(a, a) - mean k(a, b)) / N, because independent subsets of one set share m²/N points. Kernels
    are computed in float64, several subsets per batched matrix product.
    """
    x = check_features(x, "first features", 2, "KID")
    y = check_features(y, "second features", 2, "KID")
    check_same_dims(x, y, "first features", "second features")
    if subsets < 1:
        raise MetricsError(f"KID needs at least 1 subset, not {subsets}.")
    m = min(subset_size, x.shape[0], y.shape[0])
    if m < 2:
        raise MetricsError(f"KID needs subsets of at least 2 samples, not {m}.")
    g = default_generator(generator)
    d = x.shape[1]
    values = torch.empty(subsets, dtype=torch.float64, device=x.device)
    # Several subsets at a time through bmm: fewer, larger operations, at most ~64 MiB per kernel matrix.
    group = max(1, min(subsets, 2**23 // (m * m)))
    for start in range(0, subsets, group):
        count = min(group, subsets - start)
        picks = [(subset(x, m, g), subset(y, m, g).to(x.device)) for _ in range(count)]
        xs = torch.stack([p[0] for p in picks])
        ys = torch.stack([p[1] for p in picks])
        same = _cubic_kernel_sum(xs, xs, d, True) + _cubic_kernel_sum(ys, ys, d, True)
        cross = _cubic_kernel_sum(xs, ys, d, False)
        values[start : start + count] = same / (m * (m - 1)) - 2 * cross / (m * m)
    return float(values.mean()), float(values.std(unbiased=False))


def _median_distance(pooled: Tensor, generator: torch.Generator, max_points: int = 1000) -> float:
    """The median Euclidean distance between distinct points of (up to ``max_points`` of) ``pooled``."""
    if pooled.shape[0] > max_points:
        pooled = subset(pooled, max_points, generator)
    distances = torch.pdist(pooled.to(torch.float64))
    positive = distances[distances > 0]
    if positive.numel() == 0:
        return 0.0
    median = float(distances.median())
    return median if median > 0 else float(positive.median())


def _rbf_sum(a: Tensor, b: Tensor, gamma: float, same: bool) -> float:
    """Σ exp(-γ·||a_i - b_j||²) over all pairs, leaving out i = j when ``a`` is ``b``; blocks of rows."""
    total = 0.0
    for _, block in distance_blocks(a, b, exclude_self=same):
        total += float(torch.exp(-gamma * block.square()).sum())
    return total


def mmd_rbf(
    x: Tensor,
    y: Tensor,
    bandwidth: float | None = None,
    max_samples: int | None = 5000,
    generator: torch.Generator | None = None,
) -> float:
    """Unbiased MMD² (Gretton et al., 2012) with the Gaussian kernel k(a, b) = exp(-||a - b||² / (2σ²)).

    ``bandwidth`` is σ. ``None`` applies the median heuristic of Gretton et al.: σ = the median Euclidean
    distance between distinct points of the pooled sample x ∪ y (estimated on at most 1,000 pooled points,
    which pins the median well at a fraction of the cost; if more than half the distances are 0, the median of
    the positive ones). The heuristic makes the kernel neither flat nor spiky on the data's own scale; note
    that it makes values from different pairs of sets use different kernels.

    Each set larger than ``max_samples`` is subsampled (without replacement, with ``generator``) because the
    cost grows with N²; ``None`` uses every sample. The estimate leaves out the i = j terms of K_xx and K_yy,
    so it is unbiased and can be slightly negative for the same distribution; it is not clamped. float64.
    """
    x = check_features(x, "first features", 2, "MMD")
    y = check_features(y, "second features", 2, "MMD")
    check_same_dims(x, y, "first features", "second features")
    g = default_generator(generator)
    if max_samples is not None:
        if max_samples < 2:
            raise MetricsError(f"MMD needs max_samples of at least 2, not {max_samples}.")
        if x.shape[0] > max_samples:
            x = subset(x, max_samples, g)
        if y.shape[0] > max_samples:
            y = subset(y, max_samples, g)
    x, y = x.to(torch.float64), y.to(device=x.device, dtype=torch.float64)
    if bandwidth is None:
        sigma = _median_distance(torch.cat([x, y]), g)
        if sigma == 0:  # every point is the same point: the two samples are identical
            return 0.0
    else:
        sigma = float(bandwidth)
        if not (math.isfinite(sigma) and sigma > 0):
            raise MetricsError(f"The MMD bandwidth must be a positive number, not {bandwidth!r}.")
    gamma = 1.0 / (2.0 * sigma * sigma)
    n, m = x.shape[0], y.shape[0]
    k_xx = _rbf_sum(x, x, gamma, same=True) / (n * (n - 1))
    k_yy = _rbf_sum(y, y, gamma, same=True) / (m * (m - 1))
    k_xy = _rbf_sum(x, y, gamma, same=False) / (n * m)
    return k_xx + k_yy - 2 * k_xy
