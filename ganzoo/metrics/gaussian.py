"""Gaussians of features and the Fréchet distance between two (Heusel et al. 2017, the FID)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from ganzoo.errors import MetricsError
from ganzoo.metrics.checks import check_features, row_chunks


@dataclass(frozen=True, eq=False)
class Gaussian:
    """Mean (D,) and covariance (D, D) of ``n`` feature vectors, both float64.

    ``eq=False`` because comparing tensors field by field has no single truth value; compare the fields with
    ``torch.allclose`` instead.
    """

    mean: Tensor
    cov: Tensor
    n: int

    @property
    def dim(self) -> int:
        """The number of feature dimensions D."""
        return int(self.mean.shape[0])


def gaussian_stats(features: Tensor) -> Gaussian:
    """Mean and unbiased (n - 1) covariance of ``features`` (N, D), in float64.

    Two passes over blocks of rows (the mean first, then the centred scatter matrix) rather than the one-pass
    sum of outer products, because subtracting the mean before multiplying keeps every digit even when the
    features share a large offset. Blocks keep memory at one (rows, D) float64 copy at a time.
    """
    x = check_features(features, "features", 2, "a covariance")
    n, d = x.shape
    total = torch.zeros(d, dtype=torch.float64, device=x.device)
    for start, stop in row_chunks(n, d):
        total += x[start:stop].to(torch.float64).sum(dim=0)
    mean = total / n
    scatter = torch.zeros(d, d, dtype=torch.float64, device=x.device)
    for start, stop in row_chunks(n, d):
        centred = x[start:stop].to(torch.float64) - mean
        scatter += centred.T @ centred
    cov = scatter / (n - 1)
    return Gaussian(mean, (cov + cov.T) / 2, n)


class RunningGaussian:
    """Mean and covariance accumulated batch by batch, so that evaluation can stream features.

    Each batch contributes its own mean and centred scatter matrix in float64, merged with the running ones
    by the pairwise update of Chan, Golub & LeVeque (1979): the same sums as the textbook "sum and sum of
    outer products", but centred, so features with a large common offset do not cancel catastrophically.
    ``result()`` equals :func:`gaussian_stats` on all batches stacked, to float64 rounding.
    """

    def __init__(self) -> None:
        self.n = 0
        self._mean: Tensor | None = None
        self._scatter: Tensor | None = None

    def update(self, features: Tensor) -> None:
        """Add one batch (B, D) of features; every batch must have the same D."""
        x = check_features(features, "features", 1, "a batch").to(torch.float64)
        b = x.shape[0]
        batch_mean = x.mean(dim=0)
        centred = x - batch_mean
        batch_scatter = centred.T @ centred
        if self._mean is None or self._scatter is None:
            self.n, self._mean, self._scatter = b, batch_mean, batch_scatter
            return
        if x.shape[1] != self._mean.shape[0]:
            raise MetricsError(
                f"This batch has {x.shape[1]} feature dimensions but earlier batches had "
                f"{self._mean.shape[0]}; they must come from the same feature extractor."
            )
        total = self.n + b
        delta = batch_mean.to(self._mean.device) - self._mean
        self._mean = self._mean + delta * (b / total)
        self._scatter = self._scatter + batch_scatter.to(self._mean.device)
        self._scatter += torch.outer(delta, delta) * (self.n * b / total)
        self.n = total

    def result(self) -> Gaussian:
        """The Gaussian of everything seen so far (needs at least two samples in all)."""
        if self._mean is None or self._scatter is None or self.n < 2:
            raise MetricsError(f"A covariance needs at least 2 samples, but only {self.n} were seen.")
        cov = self._scatter / (self.n - 1)
        return Gaussian(self._mean.clone(), (cov + cov.T) / 2, self.n)


def sqrtm_psd(matrix: Tensor) -> Tensor:
    """The symmetric square root of a symmetric positive semi-definite matrix, via ``torch.linalg.eigh``.

    Eigenvalues that rounding made slightly negative are clamped at 0: a covariance is PSD by construction,
    and clamping is what keeps the result real where ``scipy.linalg.sqrtm`` returns complex noise.
    """
    m = matrix.to(torch.float64)
    values, vectors = torch.linalg.eigh((m + m.T) / 2)
    return (vectors * values.clamp(min=0).sqrt()) @ vectors.T


def frechet_distance(a: Gaussian, b: Gaussian) -> float:
    """The Fréchet (2-Wasserstein) distance between two Gaussians, as in FID (Heusel et al., 2017).

    d² = ||μa - μb||² + tr(Ca) + tr(Cb) - 2·tr((Ca Cb)^½). The trace of the square root uses the symmetric
    form tr((Ca^½ Cb Ca^½)^½), which has the same eigenvalues as Ca Cb but is symmetric PSD, so ``eigvalsh``
    applies and no non-symmetric ``sqrtm`` (the usual source of complex parts and NaNs, especially for
    singular covariances with n < D) is needed. All in float64; the result is clamped at 0 because rounding
    can make the distance between identical Gaussians -1e-12.
    """
    for g, which in ((a, "first"), (b, "second")):
        d = g.mean.shape[0] if g.mean.ndim == 1 else -1
        if g.mean.ndim != 1 or tuple(g.cov.shape) != (d, d):
            raise MetricsError(
                f"The {which} Gaussian needs a mean of shape (D,) and a covariance of shape (D, D), "
                f"not {tuple(g.mean.shape)} and {tuple(g.cov.shape)}."
            )
        if not (bool(torch.isfinite(g.mean).all()) and bool(torch.isfinite(g.cov).all())):
            raise MetricsError(f"The {which} Gaussian has NaN or infinite values in its mean or covariance.")
    if a.dim != b.dim:
        raise MetricsError(
            f"The two Gaussians have {a.dim} and {b.dim} dimensions; "
            "they must come from the same feature extractor."
        )
    mu_a, cov_a = a.mean.to(torch.float64), a.cov.to(torch.float64)
    mu_b, cov_b = b.mean.to(mu_a), b.cov.to(cov_a)
    root_a = sqrtm_psd(cov_a)
    middle = root_a @ cov_b @ root_a
    trace_sqrt = torch.linalg.eigvalsh((middle + middle.T) / 2).clamp(min=0).sqrt().sum()
    diff = mu_a - mu_b
    distance = diff @ diff + torch.trace(cov_a) + torch.trace(cov_b) - 2 * trace_sqrt
    return max(float(distance), 0.0)
