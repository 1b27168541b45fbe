"""GAN evaluation metrics in pure torch: Fréchet distance, KID, classifier score, precision/recall, MMD.

Every function takes torch tensors; features are ``(N, D)`` floating point and statistics are computed in
float64, because FID-style numbers are small differences of large sums and float32 loses digits that show.
Pairwise distances are computed a block of rows at a time (at most :data:`CHUNK_ROWS` rows and
:data:`BLOCK_ELEMENTS` entries per block), so 50,000 samples never build an N×N matrix at once. Where a
metric draws random subsets it takes a ``torch.Generator``; ``None`` means a generator seeded with 0, so the
same inputs always give the same number (torch-fidelity fixes its seed for the same reason). Unusable input
raises :class:`~ganzoo.errors.MetricsError` with one sentence that says what is wrong.

Nothing here imports numpy or scipy: the eigen-decompositions come from ``torch.linalg``. One module a
family: :mod:`.gaussian` (the Fréchet distance), :mod:`.kernels` (KID, MMD), :mod:`.neighbours`
(precision and recall), :mod:`.classes` (what a classifier says); :mod:`.checks` holds what they share.
"""

from __future__ import annotations

from ganzoo.metrics.checks import BLOCK_ELEMENTS, CHUNK_ROWS
from ganzoo.metrics.classes import (
    RunningClasses,
    class_histogram,
    classes_covered,
    classifier_score,
    kl_from_uniform,
)
from ganzoo.metrics.gaussian import Gaussian, RunningGaussian, frechet_distance, gaussian_stats, sqrtm_psd
from ganzoo.metrics.kernels import kernel_inception_distance, mmd_rbf
from ganzoo.metrics.neighbours import precision_recall

__all__ = [
    "BLOCK_ELEMENTS",
    "CHUNK_ROWS",
    "Gaussian",
    "RunningClasses",
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
    "sqrtm_psd",
]
