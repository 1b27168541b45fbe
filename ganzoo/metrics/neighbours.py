"""k-nearest-neighbour precision and recall (Kynkäänniemi et al. 2019)."""

from __future__ import annotations

import torch
from torch import Tensor

from ganzoo.errors import MetricsError
from ganzoo.metrics.checks import check_features, check_same_dims, distance_blocks


def _kth_neighbour_radii(points: Tensor, k: int) -> Tensor:
    """The distance of each point to its k-th nearest other point (the radius of its ball)."""
    radii = torch.empty(points.shape[0], dtype=points.dtype, device=points.device)
    for start, block in distance_blocks(points, points, exclude_self=True):
        radii[start : start + block.shape[0]] = block.topk(k, dim=1, largest=False).values[:, -1]
    return radii


def _inside_any_ball(points: Tensor, centres: Tensor, radii: Tensor) -> Tensor:
    """For each point, whether it lies within ``radii[j]`` of some ``centres[j]`` (boundary included)."""
    inside = torch.empty(points.shape[0], dtype=torch.bool, device=points.device)
    for start, block in distance_blocks(points, centres):
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
    real = check_features(real, "real features", k + 1, why)
    fake = check_features(fake, "fake features", k + 1, why)
    check_same_dims(real, fake, "real features", "fake features")
    centre = real.to(torch.float64).mean(dim=0)
    real32 = (real.to(torch.float64) - centre).to(torch.float32)
    fake32 = (fake.to(device=real.device, dtype=torch.float64) - centre).to(torch.float32)
    precision = _inside_any_ball(fake32, real32, _kth_neighbour_radii(real32, k))
    recall = _inside_any_ball(real32, fake32, _kth_neighbour_radii(fake32, k))
    return float(precision.double().mean()), float(recall.double().mean())
