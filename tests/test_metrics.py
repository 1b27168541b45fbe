"""Known cases of the evaluation metrics: what a user comparing two sets of features would notice."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest
import scipy.linalg
import torch

from ganzoo.errors import MetricsError
from ganzoo.metrics import (
    Gaussian,
    RunningClasses,
    RunningGaussian,
    class_histogram,
    classes_covered,
    classifier_score,
    frechet_distance,
    gaussian_stats,
    kernel_inception_distance,
    kl_from_uniform,
    mmd_rbf,
    precision_recall,
)


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """These tensors are small: one thread avoids OpenMP spinning when the cores are shared with others."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def rng(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def normal(n: int, d: int, seed: int = 0, shift: float = 0.0) -> torch.Tensor:
    return torch.randn(n, d, generator=rng(seed)) + shift


def random_cov(d: int, seed: int) -> torch.Tensor:
    a = torch.randn(d, 2 * d, generator=rng(seed), dtype=torch.float64)
    return a @ a.T / (2 * d) + 0.1 * torch.eye(d, dtype=torch.float64)


# --- Fréchet distance --------------------------------------------------------------------------


def test_frechet_of_identical_features_is_zero() -> None:
    stats = gaussian_stats(normal(2000, 32) * 3 + 5)
    scale = float(torch.trace(stats.cov))
    assert frechet_distance(stats, stats) < 1e-6 * scale


def test_frechet_of_identical_singular_covariances_is_zero() -> None:
    # n < D: a rank-deficient covariance, where a non-symmetric sqrtm goes complex.
    stats = gaussian_stats(normal(50, 200))
    assert frechet_distance(stats, stats) < 1e-6 * float(torch.trace(stats.cov))


def test_frechet_of_shifted_unit_gaussians_is_the_squared_shift() -> None:
    shift = torch.tensor([1.0, -0.5, 0.8, 0.0, 0.3, -1.0, 0.2, 0.5])
    a = gaussian_stats(normal(5000, 8, seed=1))
    b = gaussian_stats(normal(5000, 8, seed=2) + shift)
    expected = float(shift @ shift)
    assert frechet_distance(a, b) == pytest.approx(expected, rel=0.05)


def test_frechet_matches_the_closed_form_for_diagonal_covariances() -> None:
    g = rng(3)
    var_a = torch.rand(16, generator=g, dtype=torch.float64) * 4 + 0.1
    var_b = torch.rand(16, generator=g, dtype=torch.float64) * 4 + 0.1
    mu_a, mu_b = torch.randn(16, generator=g, dtype=torch.float64), torch.randn(16, generator=g).double()
    a, b = Gaussian(mu_a, torch.diag(var_a), 100), Gaussian(mu_b, torch.diag(var_b), 100)
    expected = float((mu_a - mu_b).square().sum() + (var_a.sqrt() - var_b.sqrt()).square().sum())
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-10)


def test_frechet_matches_scipy_sqrtm_on_full_covariances() -> None:
    d = 40
    cov_a, cov_b = random_cov(d, 4), random_cov(d, 5)
    mu_a = torch.randn(d, generator=rng(6), dtype=torch.float64)
    mu_b = torch.randn(d, generator=rng(7), dtype=torch.float64)
    covmean = scipy.linalg.sqrtm(cov_a.numpy() @ cov_b.numpy())
    expected = float(
        (mu_a - mu_b).square().sum()
        + torch.trace(cov_a)
        + torch.trace(cov_b)
        - 2 * float(covmean.trace().real)
    )
    got = frechet_distance(Gaussian(mu_a, cov_a, 1000), Gaussian(mu_b, cov_b, 1000))
    assert got == pytest.approx(expected, rel=1e-8)
    assert frechet_distance(Gaussian(mu_b, cov_b, 1000), Gaussian(mu_a, cov_a, 1000)) == pytest.approx(got)


def test_running_gaussian_over_chunks_equals_gaussian_stats() -> None:
    # A large common offset: the one-pass sum of outer products would lose digits here.
    features = normal(1000, 12, seed=8) * 0.01 + 1e4
    features = features.double()
    running = RunningGaussian()
    for chunk in torch.split(features, [1, 99, 300, 17, 583]):
        running.update(chunk)
    got, want = running.result(), gaussian_stats(features)
    assert got.n == want.n == 1000
    torch.testing.assert_close(got.mean, want.mean, rtol=1e-12, atol=0)
    torch.testing.assert_close(got.cov, want.cov, rtol=1e-8, atol=1e-14)
    torch.testing.assert_close(want.cov, torch.cov(features.T), rtol=1e-8, atol=1e-14)


# --- KID and MMD -------------------------------------------------------------------------------


def test_kid_is_near_zero_for_one_distribution_and_clearly_larger_for_a_shifted_one() -> None:
    x = normal(5000, 16, seed=9)
    same_mean, same_std = kernel_inception_distance(x, x, subsets=50, subset_size=100, generator=rng())
    assert abs(same_mean) < same_std / 2
    real, fake = x[:2500], x[2500:]
    sample_mean, sample_std = kernel_inception_distance(real, fake, 50, 100, rng())
    assert abs(sample_mean) < sample_std / 2
    shifted_mean, _ = kernel_inception_distance(real, fake + 0.5, 50, 100, rng())
    assert shifted_mean > 10 * sample_std


def test_kid_repeats_with_a_seeded_generator_and_caps_the_subset_size() -> None:
    x, y = normal(300, 8, seed=11), normal(200, 8, seed=12, shift=0.2)
    first = kernel_inception_distance(x, y, subsets=5, subset_size=1000, generator=rng(4))
    assert first == kernel_inception_distance(x, y, subsets=5, subset_size=1000, generator=rng(4))
    assert first == kernel_inception_distance(x, y, subsets=5, subset_size=200, generator=rng(4))
    assert first != kernel_inception_distance(x, y, subsets=5, subset_size=1000, generator=rng(5))


def test_kid_of_one_full_subset_is_the_unbiased_mmd_with_the_cubic_kernel() -> None:
    x, y = normal(30, 4, seed=13).double(), normal(30, 4, seed=14, shift=0.3).double()
    k_xx, k_yy, k_xy = ((a @ b.T / 4 + 1) ** 3 for a, b in ((x, x), (y, y), (x, y)))
    off = (k_xx.sum() - k_xx.trace() + k_yy.sum() - k_yy.trace()) / (30 * 29)
    expected = float(off - 2 * k_xy.mean())
    mean, std = kernel_inception_distance(x, y, subsets=3, subset_size=30)
    assert mean == pytest.approx(expected, rel=1e-10) and std == pytest.approx(0, abs=1e-12)


def test_mmd_rbf_is_near_zero_for_one_distribution_and_positive_for_different_ones() -> None:
    x, y = normal(800, 8, seed=15), normal(800, 8, seed=16)
    same = mmd_rbf(x, y)
    different = mmd_rbf(x, normal(800, 8, seed=17, shift=0.5))
    assert abs(same) < 0.005
    assert different > 0.05
    assert mmd_rbf(x, y, bandwidth=2.0) == pytest.approx(mmd_rbf(x, y, bandwidth=2.0))


def test_mmd_rbf_subsamples_large_sets_repeatably() -> None:
    x, y = normal(600, 4, seed=18), normal(600, 4, seed=19, shift=1.0)
    capped = mmd_rbf(x, y, max_samples=200, generator=rng(1))
    assert capped == mmd_rbf(x, y, max_samples=200, generator=rng(1))
    assert capped == pytest.approx(mmd_rbf(x, y), rel=0.3)


# --- precision and recall ----------------------------------------------------------------------


def test_precision_and_recall_of_identical_sets_are_one() -> None:
    x = normal(1500, 16, seed=20)
    assert precision_recall(x, x.clone()) == (1.0, 1.0)


def test_a_collapsed_generator_has_high_precision_and_low_recall() -> None:
    g = rng(21)
    centres = torch.randn(10, 4, generator=g) * 10
    labels = torch.arange(2000) % 10
    real = centres[labels] + torch.randn(2000, 4, generator=g)
    # The fake set is exactly one of the ten real clusters: all realistic, a tenth of the variety.
    assert precision_recall(real, real[labels == 0]) == (1.0, 0.1)
    # Fresh samples of that one cluster: nearly all realistic, still a tenth of the variety at most.
    precision, recall = precision_recall(real, centres[0] + torch.randn(500, 4, generator=g))
    assert precision > 0.9
    assert recall < 0.12


def test_fake_samples_far_away_have_no_precision_or_recall() -> None:
    real, fake = normal(1000, 8, seed=22), normal(1000, 8, seed=23, shift=20.0)
    assert precision_recall(real, fake) == (0.0, 0.0)


# --- classifier outputs ------------------------------------------------------------------------


def test_classifier_score_of_confident_balanced_logits_is_the_class_count() -> None:
    logits = torch.nn.functional.one_hot(torch.arange(1000) % 10, 10).float() * 50
    assert classifier_score(logits) == pytest.approx(10, rel=1e-6)


def test_classifier_score_of_one_class_or_of_uniform_logits_is_one() -> None:
    one_class = torch.nn.functional.one_hot(torch.zeros(500, dtype=torch.long), 10).float() * 50
    assert classifier_score(one_class) == pytest.approx(1, abs=1e-9)
    assert classifier_score(torch.zeros(500, 10)) == pytest.approx(1, abs=1e-12)
    assert 1 < classifier_score(normal(500, 10, seed=24)) < 10


def test_one_repeated_class_covers_one_class_at_maximal_kl() -> None:
    shares = class_histogram(torch.full((300,), 7), 10)
    assert shares.tolist() == [0.0] * 7 + [1.0] + [0.0] * 2
    assert classes_covered(shares) == 1
    assert kl_from_uniform(shares) == pytest.approx(math.log(10))


def test_balanced_classes_cover_all_with_zero_kl() -> None:
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


# --- unusable input ----------------------------------------------------------------------------


def test_mismatched_dimensions_are_refused() -> None:
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


def test_one_sample_is_refused() -> None:
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


def test_non_finite_rows_are_refused_with_their_count() -> None:
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


def test_running_classes_over_batches_equals_the_one_shot_score_and_histogram() -> None:
    logits = torch.randn(600, 10, generator=torch.Generator().manual_seed(3)) * 3
    running = RunningClasses(10)
    for chunk in logits.split(128):
        running.update(chunk)
    assert running.score() == pytest.approx(classifier_score(logits), rel=1e-12)
    assert torch.equal(running.shares(), class_histogram(logits, 10))
