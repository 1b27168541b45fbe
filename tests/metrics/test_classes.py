"""What a classifier says: the score, classes covered, the KL from uniform, streamed over batches."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
import torch

from ganzoo.metrics import (
    RunningClasses,
    class_histogram,
    classes_covered,
    classifier_score,
    kl_from_uniform,
)


def test_classifier_score_of_confident_balanced_logits_is_the_class_count() -> None:
    logits = torch.nn.functional.one_hot(torch.arange(1000) % 10, 10).float() * 50
    assert classifier_score(logits) == pytest.approx(10, rel=1e-6)


def test_classifier_score_of_one_class_or_of_uniform_logits_is_one(
    normal: Callable[..., torch.Tensor],
) -> None:
    one_class = torch.nn.functional.one_hot(torch.zeros(500, dtype=torch.long), 10).float() * 50
    assert classifier_score(one_class) == pytest.approx(1, abs=1e-9)
    assert classifier_score(torch.zeros(500, 10)) == pytest.approx(1, abs=1e-12)
    assert 1 < classifier_score(normal(500, 10, seed=24)) < 10


def test_one_repeated_class_covers_one_class_at_maximal_kl() -> None:
    shares = class_histogram(torch.full((300,), 7), 10)
    assert shares.tolist() == [0.0] * 7 + [1.0] + [0.0] * 2
    assert classes_covered(shares) == 1
    assert kl_from_uniform(shares) == pytest.approx(math.log(10))


def test_balanced_classes_cover_all_with_zero_kl(rng: Callable[..., torch.Generator]) -> None:
    logits = torch.randn(1000, 10, generator=rng(25)) + 20 * torch.nn.functional.one_hot(
        torch.arange(1000) % 10, 10
    )
    shares = class_histogram(logits, 10)
    torch.testing.assert_close(shares, torch.full((10,), 0.1, dtype=torch.float64))
    assert classes_covered(shares) == 10
    assert kl_from_uniform(shares) == pytest.approx(0, abs=1e-12)


def test_a_class_counts_as_covered_from_two_percent() -> None:
    # 100 samples: classes 0 and 1 hold 2% and 1%, the other 97% are spread over classes 2..9.
    labels = torch.tensor([0, 0, 1] + [2 + i % 8 for i in range(97)])
    shares = class_histogram(labels, 10)
    assert shares[0] == 0.02 and shares[1] == 0.01
    assert classes_covered(shares) == 9
    assert classes_covered(shares, threshold=0.01) == 10
    assert classes_covered(shares, threshold=0.021) == 8


def test_running_classes_over_batches_equals_the_one_shot_score_and_histogram() -> None:
    logits = torch.randn(600, 10, generator=torch.Generator().manual_seed(3)) * 3
    running = RunningClasses(10)
    for chunk in logits.split(128):
        running.update(chunk)
    assert running.score() == pytest.approx(classifier_score(logits), rel=1e-12)
    assert torch.equal(running.shares(), class_histogram(logits, 10))
