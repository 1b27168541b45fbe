"""Unusable input to any metric is refused in one sentence that says what is wrong."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
import torch

from ganzoo.errors import MetricsError
from ganzoo.metrics import (
    RunningGaussian,
    class_histogram,
    classes_covered,
    classifier_score,
    frechet_distance,
    gaussian_stats,
    kernel_inception_distance,
    mmd_rbf,
    precision_recall,
)


def test_mismatched_dimensions_are_refused(normal: Callable[..., torch.Tensor]) -> None:
    a, b = normal(100, 8), normal(100, 6)
    with pytest.raises(MetricsError, match="8 dimensions but the fake features have 6"):
        precision_recall(a, b)
    with pytest.raises(MetricsError, match="8 dimensions but the second features have 6"):
        kernel_inception_distance(a, b)
    with pytest.raises(MetricsError, match="8 and 6 dimensions"):
        frechet_distance(gaussian_stats(a), gaussian_stats(b))
    running = RunningGaussian()
    running.update(a)
    with pytest.raises(MetricsError, match="6 feature dimensions but earlier batches had 8"):
        running.update(b)


def test_one_sample_is_refused(normal: Callable[..., torch.Tensor]) -> None:
    with pytest.raises(MetricsError, match="have 1 rows, but a covariance needs at least 2"):
        gaussian_stats(normal(1, 8))
    running = RunningGaussian()
    running.update(normal(1, 8))
    with pytest.raises(MetricsError, match="at least 2 samples, but only 1"):
        running.result()
    with pytest.raises(MetricsError, match="precision_recall with k=3 needs at least 4"):
        precision_recall(normal(100, 8), normal(3, 8))
    with pytest.raises(MetricsError, match="KID needs at least 2"):
        kernel_inception_distance(normal(1, 8), normal(100, 8))


def test_non_finite_rows_are_refused_with_their_count(normal: Callable[..., torch.Tensor]) -> None:
    x = normal(100, 8)
    x[3, 0] = math.nan
    x[50, 1:3] = math.inf
    for call in (
        lambda: gaussian_stats(x),
        lambda: precision_recall(normal(100, 8), x),
        lambda: kernel_inception_distance(x, normal(100, 8)),
        lambda: mmd_rbf(x, normal(100, 8)),
        lambda: classifier_score(x),
    ):
        with pytest.raises(MetricsError, match="2 of 100 rows with NaN or infinite values"):
            call()


def test_other_unusable_input_is_refused() -> None:
    with pytest.raises(MetricsError, match="2-D tensor"):
        gaussian_stats(torch.zeros(10))
    with pytest.raises(MetricsError, match="must sum to 1"):
        classes_covered(torch.tensor([0.5, 0.2]))
    with pytest.raises(MetricsError, match=r"outside 0\.\.9"):
        class_histogram(torch.tensor([0, 10, -1]), 10)
