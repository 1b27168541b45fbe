"""The relativistic losses: values and gradients on hand-made logits, and what they compare."""

from __future__ import annotations

import math

import pytest
import torch

from ganzoo.plugins.relativistic import RPGAN, RaGAN


def softplus(x: float) -> float:
    return math.log1p(math.exp(x))


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


REAL, FAKE = [1.0, -0.5], [0.25, 0.5]


def grads(f: object, real: list[float], fake: list[float]) -> tuple[float, list[float], list[float]]:
    r = torch.tensor(real, requires_grad=True)
    g = torch.tensor(fake, requires_grad=True)
    out = f(r, g)  # type: ignore[operator]
    out.backward()
    assert r.grad is not None and g.grad is not None
    return float(out.detach()), r.grad.tolist(), g.grad.tolist()


def test_rpgan_pairs_each_real_logit_with_its_fake_partner() -> None:
    loss = RPGAN()
    diffs = [f - r for r, f in zip(REAL, FAKE, strict=True)]  # D(fake) - D(real), pair by pair
    value, d_real, d_fake = grads(loss.d_loss, REAL, FAKE)
    assert value == pytest.approx(sum(softplus(t) for t in diffs) / 2)
    assert d_real == pytest.approx([-sigmoid(t) / 2 for t in diffs])  # D lifts each real score
    assert d_fake == pytest.approx([sigmoid(t) / 2 for t in diffs])  # and lowers its fake partner
    g_value, _, g_fake = grads(lambda r, f: loss.g_loss(f, r), REAL, FAKE)
    assert g_value == pytest.approx(sum(softplus(-t) for t in diffs) / 2)
    assert g_fake == pytest.approx([-sigmoid(-t) / 2 for t in diffs])  # G lifts its samples' scores


def test_rpgan_only_compares_so_a_shared_shift_changes_nothing() -> None:
    loss = RPGAN()
    r, f = torch.tensor(REAL), torch.tensor(FAKE)
    assert torch.allclose(loss.d_loss(r + 7, f + 7), loss.d_loss(r, f))
    assert torch.allclose(loss.g_loss(f - 3, r - 3), loss.g_loss(f, r))


def test_ragan_compares_each_sample_with_the_other_batchs_mean() -> None:
    loss = RaGAN()
    mean_r, mean_f = sum(REAL) / 2, sum(FAKE) / 2
    want_d = sum(softplus(-(r - mean_f)) for r in REAL) / 2 + sum(softplus(f - mean_r) for f in FAKE) / 2
    want_g = sum(softplus(-(f - mean_r)) for f in FAKE) / 2 + sum(softplus(r - mean_f) for r in REAL) / 2
    value, d_real, _ = grads(loss.d_loss, REAL, FAKE)
    assert value == pytest.approx(want_d)
    assert all(g < 0 for g in d_real)  # D raises the real scores
    g_value, _, g_fake = grads(lambda r, f: loss.g_loss(f, r), REAL, FAKE)
    assert g_value == pytest.approx(want_g)
    assert all(g < 0 for g in g_fake)  # G raises its samples' scores


@pytest.mark.parametrize("cls", [RPGAN, RaGAN])
def test_finite_float32_for_huge_and_bfloat16_logits(cls: type) -> None:
    loss = cls()
    big = torch.tensor([1e4, -1e4], dtype=torch.bfloat16)
    for out in (loss.d_loss(big, -big), loss.g_loss(-big, big)):
        assert out.dtype == torch.float32 and torch.isfinite(out)


@pytest.mark.parametrize("cls", [RPGAN, RaGAN])
def test_they_are_pairwise_and_want_an_order_that_shows_both_batches(cls: type) -> None:
    assert cls.pairwise and cls.train_defaults["d_update"] == "joint"
