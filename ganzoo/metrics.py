"""GAN evaluation metrics in pure torch: Fréchet distance, KID, classifier score, precision/recall, MMD.

Every function takes torch tensors; features are ``(N, D)`` floating point and statistics are computed in
float64, because FID-style numbers are small differences of large sums and float32 loses digits that show.
Pairwise distances are computed a block of rows at a time (at most :data:`CHUNK_ROWS` rows and
:data:`BLOCK_ELEMENTS` entries per block), so 50,000 samples never build an N×N matrix at once. Where a
metric draws random subsets it takes a ``torch.Generator``; ``None`` means a generator seeded with 0, so the
same inputs always give the same number (torch-fidelity fixes its seed for the same reason). Unusable input
raises :class:`~ganzoo.errors.MetricsError` with one sentence that says what is wrong.

Nothing here imports numpy or scipy: the eigen-decompositions come from ``torch.linalg``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from ganzoo.errors import MetricsError

__all__ = [
    "BLOCK_ELEMENTS",
    "CHUNK_ROWS",
    "Gaussian",
    "RunningGaussian",
    "class_histogram",
    "classes_covered",
    "classifier_score",
    "frechet_distance",
    "gaussian_stats",
    "kernel_inception_distance",
    "kl_from_uniform",
    "mmd_rbf",
    "precision_recall",
    "sine_fit",
    "sine_fit_params",
    "sqrtm_psd",
]

#: Most rows of one block of pairwise distances (or of one covariance update).
CHUNK_ROWS = 2048
#: Most entries of one block of pairwise distances: 2**25 float32 values are 128 MiB.
BLOCK_ELEMENTS = 2**25
#: Default ω grid of :func:`sine_fit`: the ganzoo sine data has frequencies mul ∈ [1, 2) rad per unit t.
SINE_OMEGA_RANGE = (0.5, 3.0)
SINE_OMEGA_STEPS = 400


# --- input checks -------------------------------------------------------------------------------


def _check_features(x: object, what: str, min_rows: int, why: str) -> Tensor:
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


def _check_same_dims(a: Tensor, b: Tensor, what_a: str, what_b: str) -> None:
    if a.shape[1] != b.shape[1]:
        raise MetricsError(
            f"The {what_a} have {a.shape[1]} dimensions but the {what_b} have {b.shape[1]}; "
            "they must come from the same feature extractor."
        )


def _check_shares(shares: object) -> Tensor:
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


def _generator(generator: torch.Generator | None) -> torch.Generator:
    """The caller's generator, or a fresh one seeded with 0 so that results repeat run after run."""
    return generator if generator is not None else torch.Generator().manual_seed(0)


def _subset(x: Tensor, size: int, generator: torch.Generator) -> Tensor:
    """``size`` distinct rows of ``x`` drawn at random (without replacement), in float64."""
    idx = torch.randperm(x.shape[0], generator=generator)[:size].to(x.device)
    return x[idx].to(torch.float64)


def _row_chunks(n: int, cols: int) -> Iterator[tuple[int, int]]:
    """(start, stop) row ranges so that one block of ``rows × cols`` stays within the memory limits."""
    step = max(1, min(CHUNK_ROWS, BLOCK_ELEMENTS // max(cols, 1)))
    for start in range(0, n, step):
        yield start, min(start + step, n)


def _distance_blocks(a: Tensor, b: Tensor, exclude_self: bool = False) -> Iterator[tuple[int, Tensor]]:
    """Euclidean distances from blocks of rows of ``a`` to all of ``b``: (first row, block).

    With ``exclude_self`` (``a`` is ``b``) the distance of each point to itself is set to +inf, so that it
    never counts as its own neighbour, even where the matrix-product form of ``cdist`` leaves it at 1e-3
    instead of 0.
    """
    for start, stop in _row_chunks(a.shape[0], b.shape[0]):
        block = torch.cdist(a[start:stop], b)
        if exclude_self:
            rows = torch.arange(stop - start, device=block.device)
            block[rows, rows + start] = math.inf
        yield start, block


# --- Gaussians and the Fréchet distance --------------------------------------------------------


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
    x = _check_features(features, "features", 2, "a covariance")
    n, d = x.shape
    total = torch.zeros(d, dtype=torch.float64, device=x.device)
    for start, stop in _row_chunks(n, d):
        total += x[start:stop].to(torch.float64).sum(dim=0)
    mean = total / n
    scatter = torch.zeros(d, d, dtype=torch.float64, device=x.device)
    for start, stop in _row_chunks(n, d):
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
        x = _check_features(features, "features", 1, "a batch").to(torch.float64)
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


# --- kernel distances --------------------------------------------------------------------------


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
    x = _check_features(x, "first features", 2, "KID")
    y = _check_features(y, "second features", 2, "KID")
    _check_same_dims(x, y, "first features", "second features")
    if subsets < 1:
        raise MetricsError(f"KID needs at least 1 subset, not {subsets}.")
    m = min(subset_size, x.shape[0], y.shape[0])
    if m < 2:
        raise MetricsError(f"KID needs subsets of at least 2 samples, not {m}.")
    g = _generator(generator)
    d = x.shape[1]
    values = torch.empty(subsets, dtype=torch.float64, device=x.device)
    # Several subsets at a time through bmm: fewer, larger operations, at most ~64 MiB per kernel matrix.
    group = max(1, min(subsets, 2**23 // (m * m)))
    for start in range(0, subsets, group):
        count = min(group, subsets - start)
        picks = [(_subset(x, m, g), _subset(y, m, g).to(x.device)) for _ in range(count)]
        xs = torch.stack([p[0] for p in picks])
        ys = torch.stack([p[1] for p in picks])
        same = _cubic_kernel_sum(xs, xs, d, True) + _cubic_kernel_sum(ys, ys, d, True)
        cross = _cubic_kernel_sum(xs, ys, d, False)
        values[start : start + count] = same / (m * (m - 1)) - 2 * cross / (m * m)
    return float(values.mean()), float(values.std(unbiased=False))


def _median_distance(pooled: Tensor, generator: torch.Generator, max_points: int = 1000) -> float:
    """The median Euclidean distance between distinct points of (up to ``max_points`` of) ``pooled``."""
    if pooled.shape[0] > max_points:
        pooled = _subset(pooled, max_points, generator)
    distances = torch.pdist(pooled.to(torch.float64))
    positive = distances[distances > 0]
    if positive.numel() == 0:
        return 0.0
    median = float(distances.median())
    return median if median > 0 else float(positive.median())


def _rbf_sum(a: Tensor, b: Tensor, gamma: float, same: bool) -> float:
    """Σ exp(-γ·||a_i - b_j||²) over all pairs, leaving out i = j when ``a`` is ``b``; blocks of rows."""
    total = 0.0
    for _, block in _distance_blocks(a, b, exclude_self=same):
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
    x = _check_features(x, "first features", 2, "MMD")
    y = _check_features(y, "second features", 2, "MMD")
    _check_same_dims(x, y, "first features", "second features")
    g = _generator(generator)
    if max_samples is not None:
        if max_samples < 2:
            raise MetricsError(f"MMD needs max_samples of at least 2, not {max_samples}.")
        if x.shape[0] > max_samples:
            x = _subset(x, max_samples, g)
        if y.shape[0] > max_samples:
            y = _subset(y, max_samples, g)
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


# --- precision and recall ----------------------------------------------------------------------


def _kth_neighbour_radii(points: Tensor, k: int) -> Tensor:
    """The distance of each point to its k-th nearest other point (the radius of its ball)."""
    radii = torch.empty(points.shape[0], dtype=points.dtype, device=points.device)
    for start, block in _distance_blocks(points, points, exclude_self=True):
        radii[start : start + block.shape[0]] = block.topk(k, dim=1, largest=False).values[:, -1]
    return radii


def _inside_any_ball(points: Tensor, centres: Tensor, radii: Tensor) -> Tensor:
    """For each point, whether it lies within ``radii[j]`` of some ``centres[j]`` (boundary included)."""
    inside = torch.empty(points.shape[0], dtype=torch.bool, device=points.device)
    for start, block in _distance_blocks(points, centres):
        inside[start : start + block.shape[0]] = (block <= radii).any(dim=1)
    return inside


def precision_recall(real: Tensor, fake: Tensor, k: int = 3) -> tuple[float, float]:
    """Improved precision and recall (Kynkäänniemi et al., 2019): shares of points on the other manifold.

    The real manifold is the union of balls around the real points, each with the radius of the distance to
    its k-th nearest other real point (k = 3, the paper's default). Precision is the share of fake points
    inside some real ball (are the samples realistic?); recall is the share of real points inside some ball
    of the fake manifold built the same way (is the data's variety covered?). Unlike FID this separates low
    quality from mode collapse. Distances are float32 (they only feed comparisons), computed a block of rows
    at a time with ``torch.cdist`` after subtracting the real mean, which keeps the matrix-product form
    accurate for features with a large common offset. A point's distance to itself is excluded.
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise MetricsError(f"precision_recall needs k to be a whole number of at least 1, not {k!r}.")
    why = f"precision_recall with k={k}"
    real = _check_features(real, "real features", k + 1, why)
    fake = _check_features(fake, "fake features", k + 1, why)
    _check_same_dims(real, fake, "real features", "fake features")
    centre = real.to(torch.float64).mean(dim=0)
    real32 = (real.to(torch.float64) - centre).to(torch.float32)
    fake32 = (fake.to(device=real.device, dtype=torch.float64) - centre).to(torch.float32)
    precision = _inside_any_ball(fake32, real32, _kth_neighbour_radii(real32, k))
    recall = _inside_any_ball(real32, fake32, _kth_neighbour_radii(fake32, k))
    return float(precision.double().mean()), float(recall.double().mean())


# --- classifier outputs ------------------------------------------------------------------------


def _check_logits(logits: object, what: str = "logits") -> Tensor:
    x = _check_features(logits, what, 1, "a class distribution")
    if x.shape[1] < 2:
        raise MetricsError(f"The {what} need at least 2 classes, not {x.shape[1]}.")
    return x


def classifier_score(logits: Tensor) -> float:
    """The Inception Score (Salimans et al., 2016) of logits (N, K): exp(E_x KL(p(y|x) || p(y))).

    High when each sample is confidently one class (sharp p(y|x)) and the classes are used evenly (flat
    p(y)); it ranges from 1 to K. Computed from logits through ``log_softmax`` in float64, so confident logits
    give exact zeros instead of log(0). One score over all samples: the original's mean over 10 splits is left
    to the caller, since splitting mostly adds a small-sample bias.
    """
    x = _check_logits(logits).to(torch.float64)
    log_p = torch.log_softmax(x, dim=1)
    log_marginal = torch.logsumexp(log_p, dim=0) - math.log(x.shape[0])
    kl = (log_p.exp() * (log_p - log_marginal)).sum(dim=1)
    return math.exp(float(kl.mean()))


def class_histogram(logits_or_labels: Tensor, num_classes: int) -> Tensor:
    """The share of samples in each of ``num_classes`` classes (float64, summing to 1).

    Takes logits or probabilities (N, K), reduced to their argmax, or integer labels (N,).
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise MetricsError(f"num_classes must be a whole number of at least 1, not {num_classes!r}.")
    x = logits_or_labels
    if not isinstance(x, Tensor):
        raise MetricsError(f"The logits or labels must be a torch tensor, not {type(x).__name__}.")
    if x.ndim == 2:
        x = _check_features(x, "logits", 1, "a class histogram")
        if x.shape[1] != num_classes:
            raise MetricsError(f"The logits have {x.shape[1]} classes, but num_classes is {num_classes}.")
        labels = x.argmax(dim=1)
    elif x.ndim == 1:
        if x.is_complex():
            raise MetricsError(f"The labels must be whole numbers, not {x.dtype}.")
        if x.numel() == 0:
            raise MetricsError("A class histogram needs at least 1 label, not none.")
        if x.is_floating_point() and not bool((torch.isfinite(x) & (x == x.round())).all()):
            raise MetricsError("The labels must be whole numbers; pass 2-D logits to take their argmax.")
        labels = x.to(torch.long)
        outside = int(((labels < 0) | (labels >= num_classes)).sum())
        if outside:
            raise MetricsError(f"{outside} of {labels.numel()} labels lie outside 0..{num_classes - 1}.")
    else:
        raise MetricsError(f"Pass logits (N, K) or labels (N,), not a tensor of shape {tuple(x.shape)}.")
    counts = torch.bincount(labels, minlength=num_classes).to(torch.float64)
    return counts / labels.numel()


class RunningClasses:
    """:func:`classifier_score` and :func:`class_histogram` over logits that arrive in batches.

    The score is exp(E_x Σ_y p log p(y|x) − Σ_y p̄ log p̄), so it needs only the running sum of
    Σ p log p and of p(y|x): no logits are kept, however many samples stream through.
    """

    def __init__(self, num_classes: int) -> None:
        self.k = num_classes
        self.n = 0
        self.negentropy = 0.0
        self.marginal = torch.zeros(num_classes, dtype=torch.float64)
        self.counts = torch.zeros(num_classes, dtype=torch.float64)

    def update(self, logits: Tensor) -> None:
        log_p = torch.log_softmax(_check_logits(logits).to(torch.float64), dim=1)
        p = log_p.exp()
        self.negentropy += float((p * log_p).sum())
        self.marginal += p.sum(dim=0).cpu()
        self.counts += torch.bincount(log_p.argmax(dim=1), minlength=self.k).to(torch.float64).cpu()
        self.n += log_p.shape[0]

    def score(self) -> float:
        marginal = self.marginal / self.n
        return math.exp(self.negentropy / self.n - float((marginal * marginal.clamp_min(1e-300).log()).sum()))

    def shares(self) -> Tensor:
        return self.counts / self.n


def classes_covered(shares: Tensor, threshold: float = 0.02) -> int:
    """How many classes hold at least ``threshold`` of the samples (a share equal to it counts).

    A mode-coverage count in the spirit of the "number of modes" of Metz et al. (2017) and Srivastava et al.
    (2017): the threshold (2% by default, a fifth of a fair share among 10 classes) keeps a class that a
    collapsed generator hits by accident from counting.
    """
    p = _check_shares(shares)
    if not (0 < threshold <= 1):
        raise MetricsError(f"The coverage threshold must lie in (0, 1], not {threshold!r}.")
    return int((p >= threshold).sum())


def kl_from_uniform(shares: Tensor) -> float:
    """KL(p || uniform) = Σ p·log(p·K) in nats, with 0·log 0 = 0: 0 for balanced classes, log K for one.

    The reverse-KL mode-balance score of Srivastava et al. (2017, VEEGAN) and Lin et al. (2018, PacGAN).
    """
    p = _check_shares(shares)
    return max(float(torch.xlogy(p, p * p.numel()).sum()), 0.0)


# --- sine curves -------------------------------------------------------------------------------


def _sine_bases(omegas: Tensor, t: Tensor) -> Tensor:
    """Orthonormal bases (..., T, 3) of the column spaces of [sin(ωt), cos(ωt), 1], one per ω.

    Through the SVD, dropping directions with tiny singular values, so that a degenerate design (ω = 0, or
    ω·t a multiple of π everywhere) projects onto its true, smaller column space.
    """
    wt = omegas.unsqueeze(-1) * t
    design = torch.stack([torch.sin(wt), torch.cos(wt), torch.ones_like(wt)], dim=-1)
    u, s, _ = torch.linalg.svd(design, full_matrices=False)
    keep = s > s[..., :1] * (t.shape[0] * torch.finfo(torch.float64).eps * 10)
    return u * keep.unsqueeze(-2)


def _sine_residuals(curves: Tensor, omegas: Tensor, t: Tensor) -> Tensor:
    """Sum of squared residuals (N,) of each curve's fit at its own ω (N,), from the explicit residual."""
    basis = _sine_bases(omegas, t)
    coef = torch.einsum("nt,ntk->nk", curves, basis)
    residual = curves - torch.einsum("ntk,nk->nt", basis, coef)
    return residual.square().sum(dim=1)


def _parabola_vertex(w: Tensor, f: Tensor) -> Tensor:
    """The abscissa of the vertex of the parabola through (w[:, i], f[:, i]), i = 0, 1, 2; w[:, 1] if none."""
    a, b, c = w.unbind(dim=1)
    fa, fb, fc = f.unbind(dim=1)
    num = (b - a) ** 2 * (fb - fc) - (b - c) ** 2 * (fb - fa)
    den = (b - a) * (fb - fc) - (b - c) * (fb - fa)
    vertex = b - 0.5 * num / den
    ok = (den.abs() > 0) & torch.isfinite(vertex)
    return torch.where(ok, vertex, b).clamp(min=a, max=c)


def sine_fit_params(
    curves: Tensor,
    t: Tensor | Sequence[float],
    omegas: Tensor | Sequence[float] | None = None,
    refine: bool = True,
) -> tuple[Tensor, Tensor]:
    """Per-curve RMS residual (N,) and best ω (N,) of the least-squares fit y ≈ a·sin(ωt) + b·cos(ωt) + c.

    The fit is linear in (a, b, c) for a fixed ω, so each ω on the grid gets one orthonormal basis Q (T, 3)
    and every curve's residual sum of squares is ||y||² - ||Qᵀy||², all curves at once. The default grid has
    400 values of ω spanning 0.5..3.0 rad per unit t, which covers the ganzoo sine data (mul ∈ [1, 2))
    with room on both sides. With ``refine`` the best grid ω of each curve is refined by one parabolic step
    through it and its two neighbours (kept only if it lowers the residual): the grid alone (step 0.006)
    leaves up to 4e-3 RMS on an exact sine, one step brings that under 1e-5. The residual reported is the
    RMS of the explicit residual vector at the chosen ω, in float64: ~0 for a perfect sine, about the noise
    std for noisy curves (a little less, since the four fitted parameters absorb some noise).
    """
    y = _check_features(curves, "curves", 1, "a sine fit").to(torch.float64)
    if not isinstance(t, Tensor):
        t = torch.tensor(list(t), dtype=torch.float64)
    t = t.to(device=y.device, dtype=torch.float64)
    if t.ndim != 1 or t.shape[0] != y.shape[1]:
        raise MetricsError(f"The sample positions t must have shape ({y.shape[1]},), not {tuple(t.shape)}.")
    if y.shape[1] < 4:
        raise MetricsError(
            f"A sine fit has 4 parameters, so curves need at least 4 points, not {y.shape[1]}."
        )
    if not bool(torch.isfinite(t).all()):
        raise MetricsError("The sample positions t must be finite.")
    if omegas is None:
        grid = torch.linspace(*SINE_OMEGA_RANGE, SINE_OMEGA_STEPS, dtype=torch.float64, device=y.device)
    else:
        grid = torch.as_tensor(omegas, dtype=torch.float64).to(y.device).reshape(-1)
        if grid.numel() == 0 or not bool(torch.isfinite(grid).all()):
            raise MetricsError("The ω grid of a sine fit must be a non-empty set of finite numbers.")
        grid = torch.unique(grid)  # sorted, so that grid neighbours are neighbours in ω
    bases = _sine_bases(grid, t)  # (W, T, 3)
    w = grid.shape[0]
    best = torch.empty(y.shape[0], dtype=torch.long, device=y.device)
    rss_grid = torch.empty(y.shape[0], 3, dtype=torch.float64, device=y.device)
    for start, stop in _row_chunks(y.shape[0], w * 3):
        chunk = y[start:stop]
        proj = torch.einsum("nt,wtk->nwk", chunk, bases)
        rss = (chunk.square().sum(dim=1, keepdim=True) - proj.square().sum(dim=2)).clamp(min=0)
        idx = rss.argmin(dim=1)
        best[start:stop] = idx
        around = (idx.unsqueeze(1) + torch.arange(-1, 2, device=y.device)).clamp(0, w - 1)
        rss_grid[start:stop] = rss.gather(1, around)
    omega = grid[best]
    rss_best = _sine_residuals(y, omega, t)
    if refine and w >= 3:
        inner = (best > 0) & (best < w - 1)
        if bool(inner.any()):
            around = best[inner].unsqueeze(1) + torch.arange(-1, 2, device=y.device)
            candidate = _parabola_vertex(grid[around], rss_grid[inner])
            rss_candidate = _sine_residuals(y[inner], candidate, t)
            better = rss_candidate < rss_best[inner]
            omega[inner] = torch.where(better, candidate, omega[inner])
            rss_best[inner] = torch.where(better, rss_candidate, rss_best[inner])
    return (rss_best / y.shape[1]).sqrt(), omega


def sine_fit(
    curves: Tensor,
    t: Tensor | Sequence[float],
    omegas: Tensor | Sequence[float] | None = None,
    refine: bool = True,
) -> Tensor:
    """Per-curve RMS residual (N,) float64 of the best sine fit; see :func:`sine_fit_params` for the method.

    A measure of how sine-like generated curves are: an exact sine gives ~0, a curve that is not a sine gives
    a residual on the scale of its deviation.
    """
    return sine_fit_params(curves, t, omegas, refine)[0]
