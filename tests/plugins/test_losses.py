"""The built-in losses: values and gradient signs on hand-made logits, float32 safety, the WGAN-GP
penalty on critics whose input gradients are known, and registration like any third-party loss."""

from __future__ import annotations

import itertools
import math
from typing import Any

import pytest
import torch
from torch import nn

from ganzoo import build
from ganzoo.api import list_components
from ganzoo.components import DataSpec, Discriminator, Loss
from ganzoo.errors import TrainingError, UsageError
from ganzoo.manager import get_manager
from ganzoo.plugins.bce import BCE
from ganzoo.plugins.hinge import Hinge
from ganzoo.plugins.lsgan import LSGAN
from ganzoo.plugins.minimax import Minimax
from ganzoo.plugins.wgan_gp import WGANGP
from ganzoo.settings import RunConfig

LOSSES: dict[str, type[Loss]] = {
    "bce": BCE,
    "minimax": Minimax,
    "hinge": Hinge,
    "wgan-gp": WGANGP,
    "lsgan": LSGAN,
}


def softplus(x: float) -> float:
    return math.log1p(math.exp(x))


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def value_and_grad(loss: Loss, part: str, logit: float) -> tuple[float, float]:
    """The loss on a batch of one logit, and its derivative with respect to that logit."""
    x = torch.tensor([logit], requires_grad=True)
    out = getattr(loss, part)(x)
    out.backward()
    assert x.grad is not None
    return float(out.detach()), float(x.grad[0])


# (loss, part, logit, value, d value / d logit), each computed by hand from the paper's formula.
# At a logit of 0.5 every loss is off its flat parts, so the signs are the ones that matter:
# d_real falls as the real score rises, d_fake rises with the fake score, g falls as D(G(z)) rises.
HAND = [
    ("bce", "d_real", 0.5, softplus(-0.5), -sigmoid(-0.5)),  # -log σ(x)
    ("bce", "d_fake", 0.5, softplus(0.5), sigmoid(0.5)),  # -log(1 - σ(x))
    ("bce", "g", 0.5, softplus(-0.5), -sigmoid(-0.5)),  # -log σ(x)
    ("bce", "d_real", 2.0, math.log(1 + math.exp(-2)), -sigmoid(-2.0)),
    ("bce", "d_fake", 0.0, math.log(2), 0.5),
    ("minimax", "d_real", 0.5, softplus(-0.5), -sigmoid(-0.5)),
    ("minimax", "d_fake", 0.5, softplus(0.5), sigmoid(0.5)),
    ("minimax", "g", 0.5, math.log(1 - sigmoid(0.5)), -sigmoid(0.5)),  # log(1 - σ(x))
    ("minimax", "g", 0.0, -math.log(2), -0.5),
    ("minimax", "g", 2.0, math.log(1 - sigmoid(2.0)), -sigmoid(2.0)),
    ("hinge", "d_real", 0.5, 0.5, -1.0),  # max(0, 1 - x)
    ("hinge", "d_fake", 0.5, 1.5, 1.0),  # max(0, 1 + x)
    ("hinge", "g", 0.5, -0.5, -1.0),  # -x
    ("hinge", "d_real", -3.0, 4.0, -1.0),
    ("wgan-gp", "d_real", 0.5, -0.5, -1.0),  # -x
    ("wgan-gp", "d_fake", 0.5, 0.5, 1.0),  # x
    ("wgan-gp", "g", 0.5, -0.5, -1.0),  # -x
    ("wgan-gp", "d_fake", -7.0, -7.0, 1.0),
    ("lsgan", "d_real", 0.5, 0.125, -0.5),  # ½(x - 1)²
    ("lsgan", "d_fake", 0.5, 0.125, 0.5),  # ½x²
    ("lsgan", "g", 0.5, 0.125, -0.5),  # ½(x - 1)²
    ("lsgan", "d_real", 3.0, 2.0, 2.0),  # a real score past its target is pulled back to 1
    ("lsgan", "d_fake", -2.0, 2.0, -2.0),
]


@pytest.mark.parametrize(("name", "part", "logit", "value", "grad"), HAND)
def test_value_and_gradient_against_hand_computed(
    name: str, part: str, logit: float, value: float, grad: float
) -> None:
    got_value, got_grad = value_and_grad(LOSSES[name](), part, logit)
    assert got_value == pytest.approx(value, rel=1e-6, abs=1e-6)
    assert got_grad == pytest.approx(grad, rel=1e-6, abs=1e-6)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_gradient_signs_push_real_up_fake_down_and_g_up(name: str) -> None:
    loss = LOSSES[name]()
    for logit in (-0.5, 0.0, 0.5):
        assert value_and_grad(loss, "d_real", logit)[1] < 0, "d_real must push real scores up"
        assert value_and_grad(loss, "g", logit)[1] < 0, "g must push D's score on fakes up"
    for logit in (0.25, 0.5) if name == "lsgan" else (-0.5, 0.0, 0.5):  # lsgan's fake target is 0
        assert value_and_grad(loss, "d_fake", logit)[1] > 0, "d_fake must push fake scores down"


def test_means_over_the_batch() -> None:
    real = torch.tensor([0.5, 2.0, -1.0])
    fake = torch.tensor([-0.5, -2.0, 1.0])
    assert float(Hinge().d_real(real)) == pytest.approx((0.5 + 0.0 + 2.0) / 3)
    assert float(Hinge().d_fake(fake)) == pytest.approx((0.5 + 0.0 + 2.0) / 3)
    assert float(WGANGP().d_real(real)) == pytest.approx(-0.5)
    assert float(LSGAN().d_fake(fake)) == pytest.approx(0.5 * (0.25 + 4.0 + 1.0) / 3)
    assert float(Minimax().g(fake)) == pytest.approx(-sum(softplus(v) for v in (-0.5, -2.0, 1.0)) / 3)


def test_hinge_is_flat_beyond_the_margin_but_g_never_is() -> None:
    assert value_and_grad(Hinge(), "d_real", 2.0) == (0.0, 0.0)  # real scored above +1: nothing to learn
    assert value_and_grad(Hinge(), "d_fake", -2.0) == (0.0, 0.0)  # fake scored below -1
    assert value_and_grad(Hinge(), "g", -50.0) == (50.0, -1.0)  # G's push never saturates


def test_lsgan_is_flat_at_its_targets() -> None:
    assert value_and_grad(LSGAN(), "d_real", 1.0) == (0.0, 0.0)
    assert value_and_grad(LSGAN(), "d_fake", 0.0) == (0.0, 0.0)
    assert value_and_grad(LSGAN(), "g", 1.0) == (0.0, 0.0)


def test_minimax_saturates_where_bce_does_not() -> None:
    """Goodfellow et al. 2014, section 3: early on D rejects G's samples with high confidence, and
    log(1 - D(G(z))) then gives G almost no gradient; -log D(G(z)) gives it nearly a full one."""
    confident = [-2.0, -5.0, -10.0, -20.0]  # D(G(z)) = σ(logit) → 0
    minimax = [value_and_grad(Minimax(), "g", x)[1] for x in confident]
    bce = [value_and_grad(BCE(), "g", x)[1] for x in confident]
    assert all(g < 0 for g in minimax + bce)  # both push the same way
    assert all(abs(a) > abs(b) for a, b in itertools.pairwise(minimax))  # vanishing
    assert abs(minimax[-1]) < 1e-8  # σ(-20) ≈ 2e-9
    assert all(g == pytest.approx(-1.0, abs=0.12) for g in bce)  # -σ(-x) → -1
    # Where D is fooled the roles swap, and both losses share the same fixed point.
    assert abs(value_and_grad(Minimax(), "g", 10.0)[1]) > 0.99
    assert abs(value_and_grad(BCE(), "g", 10.0)[1]) < 1e-4


def test_minimax_discriminator_is_bce_with_the_same_label_smoothing() -> None:
    x = torch.tensor([-1.0, 0.3, 2.5])
    for s in (0.0, 0.1):
        assert torch.equal(Minimax(label_smoothing=s).d_real(x), BCE(label_smoothing=s).d_real(x))
        assert torch.equal(Minimax(label_smoothing=s).d_fake(x), BCE(label_smoothing=s).d_fake(x))
    assert Minimax.defaults == {"label_smoothing": 0.0}


def test_bce_label_smoothing_targets_one_minus_s() -> None:
    value, grad = value_and_grad(BCE(label_smoothing=0.1), "d_real", 0.5)
    assert value == pytest.approx(0.9 * softplus(-0.5) + 0.1 * softplus(0.5))
    assert grad == pytest.approx(sigmoid(0.5) - 0.9)  # σ(x) - t
    assert value_and_grad(BCE(label_smoothing=0.1), "d_real", math.log(9))[1] == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(UsageError, match="label_smoothing"):
        BCE(label_smoothing=1.0)


@pytest.mark.parametrize("name", sorted(LOSSES))
@pytest.mark.parametrize("part", ["d_real", "d_fake", "g"])
def test_finite_float32_scalars_for_huge_logits(name: str, part: str) -> None:
    x = torch.tensor([1e4, -1e4, 0.0], requires_grad=True)
    out = getattr(LOSSES[name](), part)(x)
    assert out.dtype == torch.float32 and out.shape == ()
    assert torch.isfinite(out)
    out.backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()


@pytest.mark.parametrize("name", sorted(LOSSES))
@pytest.mark.parametrize("part", ["d_real", "d_fake", "g"])
def test_bfloat16_logits_give_float32_scalars(name: str, part: str) -> None:
    x32 = torch.tensor([-3.0, -0.5, 0.25, 1.0, 1e4])
    x = x32.to(torch.bfloat16).requires_grad_(True)
    loss = LOSSES[name]()
    out = getattr(loss, part)(x)
    assert out.dtype == torch.float32 and out.shape == () and torch.isfinite(out)
    # The same number as on the float32 copy of the bfloat16 values: no arithmetic in bfloat16.
    assert float(out.detach()) == pytest.approx(float(getattr(loss, part)(x.detach().float())), rel=1e-6)
    out.backward()
    assert x.grad is not None and x.grad.dtype == torch.bfloat16 and torch.isfinite(x.grad).all()


# -- the WGAN-GP penalty -----------------------------------------------------------------------


class LinearCritic(Discriminator):
    """D(x) = ⟨w, flatten(x)⟩: its input gradient is w for every sample, so its norm is ‖w‖."""

    def __init__(self, data: DataSpec, w: torch.Tensor) -> None:
        super().__init__(data)
        self.w = nn.Parameter(w.clone().float())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1) @ self.w


class SquareCritic(Discriminator):
    """D(x) = ½‖x‖²: its input gradient at x is x itself, a different norm for every sample."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 0.5 * x.flatten(1).square().sum(1)


SEQ = DataSpec((3,), "sequence")
IMG = DataSpec((1, 4, 4), "image")


def batches(spec: DataSpec, n: int = 6) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return torch.randn(n, *spec.shape, generator=g), torch.randn(n, *spec.shape, generator=g)


def test_penalty_vanishes_for_a_unit_norm_linear_critic() -> None:
    w = torch.tensor([3.0, 4.0, 0.0]) / 5.0
    real, fake = batches(SEQ)
    p = WGANGP().penalty(LinearCritic(SEQ, w), real, fake)
    assert p is not None and p.dtype == torch.float32 and p.shape == ()
    assert float(p.detach()) == pytest.approx(0.0, abs=1e-10)


@pytest.mark.parametrize(("norm", "weight"), [(3.0, 10.0), (0.5, 10.0), (2.0, 1.5)])
def test_penalty_is_weight_times_squared_distance_of_norm_from_one(norm: float, weight: float) -> None:
    w = torch.tensor([0.0, 0.6, 0.8]) * norm
    real, fake = batches(SEQ)
    p = WGANGP(gp_weight=weight).penalty(LinearCritic(SEQ, w), real, fake)
    assert p is not None
    assert float(p.detach()) == pytest.approx(weight * (norm - 1.0) ** 2, rel=1e-5)


def test_penalty_takes_each_samples_norm_over_all_its_dimensions() -> None:
    # w = 0.5 everywhere on a (1, 4, 4) image: each row of 4 has norm 1, the whole image norm 2.
    critic = LinearCritic(IMG, torch.full((16,), 0.5))
    real, fake = batches(IMG)
    p = WGANGP().penalty(critic, real, fake)
    assert p is not None and float(p.detach()) == pytest.approx(10.0 * (2.0 - 1.0) ** 2, rel=1e-5)
    # Per sample, not over the batch: with real = fake, x̂ = x whatever ε is, and ∇D(x̂) = x.
    x = torch.zeros(2, 1, 4, 4)
    x[0, 0, 0, 0], x[0, 0, 3, 3] = 1.2, 1.6  # norm 2
    x[1, 0, 1, :] = 1.5  # norm 3
    p = WGANGP().penalty(SquareCritic(IMG), x, x.clone())
    assert p is not None and float(p.detach()) == pytest.approx(
        10.0 * ((2 - 1) ** 2 + (3 - 1) ** 2) / 2, rel=1e-5
    )


def test_penalty_interpolates_with_one_global_rng_draw_per_sample() -> None:
    real, fake = batches(IMG, n=5)
    torch.manual_seed(123)
    p = WGANGP().penalty(SquareCritic(IMG), real, fake)
    torch.manual_seed(123)
    eps = torch.rand(5, 1, 1, 1)
    x_hat = eps * real + (1 - eps) * fake
    expected = 10.0 * (x_hat.flatten(1).norm(dim=1) - 1).square().mean()
    assert p is not None and float(p.detach()) == pytest.approx(float(expected), rel=1e-6)
    torch.manual_seed(123)
    again = WGANGP().penalty(SquareCritic(IMG), real, fake)
    assert again is not None and torch.equal(p, again)  # the trainer's checkpointed RNG decides ε


def test_penalty_backpropagates_into_the_critics_weights() -> None:
    w = torch.tensor([0.0, 1.8, 2.4])  # norm 3
    critic = LinearCritic(SEQ, w)
    real, fake = batches(SEQ)
    p = WGANGP().penalty(critic, real, fake)
    assert p is not None and p.requires_grad
    p.backward()
    # d/dw of λ(‖w‖ - 1)² is 2λ(‖w‖ - 1)·w/‖w‖: needs the graph of the gradient (create_graph).
    assert critic.w.grad is not None
    assert torch.allclose(critic.w.grad, 2 * 10.0 * (3.0 - 1.0) * w / 3.0, rtol=1e-5)
    assert real.grad is None and fake.grad is None


def test_penalty_runs_in_float32_under_autocast() -> None:
    critic = nn.Sequential(nn.Flatten(), nn.Linear(16, 8), nn.Tanh(), nn.Linear(8, 1), nn.Flatten(0))
    real, fake = batches(IMG)
    torch.manual_seed(0)
    plain = WGANGP().penalty(critic, real, fake)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert critic(real).dtype == torch.bfloat16  # autocast is on for this critic
        torch.manual_seed(0)
        cast = WGANGP().penalty(critic, real.bfloat16(), fake.bfloat16())
        torch.manual_seed(0)
        same = WGANGP().penalty(critic, real, fake)
    assert plain is not None and cast is not None and same is not None
    assert cast.dtype == torch.float32 and same.dtype == torch.float32
    assert torch.equal(same, plain)  # computed exactly as without autocast
    assert torch.isfinite(cast)


def test_penalty_refuses_batches_of_different_shapes() -> None:
    real, fake = batches(SEQ)
    with pytest.raises(TrainingError, match="same shape"):
        WGANGP().penalty(LinearCritic(SEQ, torch.ones(3)), real, fake[:4])


def test_zero_gp_weight_skips_the_penalty() -> None:
    real, fake = batches(SEQ)
    assert WGANGP(gp_weight=0).penalty(LinearCritic(SEQ, torch.ones(3)), real, fake) is None


@pytest.mark.parametrize("bad", [-1.0, -1e-9, float("nan"), float("inf"), "ten", True, None])
def test_bad_gp_weight_is_a_usage_error(bad: Any) -> None:
    with pytest.raises(UsageError, match=r"^gp_weight must be a finite number of at least 0, got .*\.$"):
        WGANGP(gp_weight=bad)


@pytest.mark.parametrize("name", ["bce", "minimax", "hinge", "lsgan"])
def test_other_losses_have_no_penalty(name: str) -> None:
    real, fake = batches(SEQ)
    assert LOSSES[name]().penalty(LinearCritic(SEQ, torch.ones(3)), real, fake) is None


# -- registered and built like any plugin's loss -----------------------------------------------


def test_every_loss_is_listed_with_its_description() -> None:
    rows = {r["name"]: r for r in list_components("loss")}
    assert set(LOSSES) <= set(rows)
    words = {
        "bce": "Non-saturating",
        "minimax": "Goodfellow",
        "hinge": "Lim & Ye",
        "wgan-gp": "Gulrajani",
        "lsgan": "Mao",
    }
    for name, word in words.items():
        row = rows[name]
        assert word in row["summary"] and "\n" not in row["summary"]
        assert row["plugin"] == "losses" and row["dist"] == "ganzoo" and not row["ambiguous"]
        assert build.lookup(get_manager(), "loss", name) is LOSSES[name]


def config_for(loss: str, **params: Any) -> RunConfig:
    config = RunConfig("vanilla-mlp", "vanilla-mlp", "sine", loss)
    config.params["loss"] = {**LOSSES[loss].defaults, **params}
    return config


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_built_with_defaults(name: str) -> None:
    config = config_for(name)
    loss = build.build_loss(build.component(get_manager(), "loss", config.loss), config)
    assert type(loss) is LOSSES[name]
    x = torch.tensor([0.3, -0.2])
    assert all(torch.isfinite(getattr(loss, part)(x)) for part in ("d_real", "d_fake", "g"))


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_an_unknown_parameter_is_refused(name: str) -> None:
    config = config_for(name, margin=2.0)
    with pytest.raises(UsageError, match=f"The loss '{name}' does not accept these parameters"):
        build.build_loss(build.component(get_manager(), "loss", config.loss), config)


def test_declared_parameters_reach_the_loss() -> None:
    config = config_for("wgan-gp", gp_weight=2.5)
    loss = build.build_loss(build.component(get_manager(), "loss", config.loss), config)
    assert isinstance(loss, WGANGP) and loss.gp_weight == 2.5 and loss.params == {"gp_weight": 2.5}
    with pytest.raises(UsageError, match="gp_weight"):
        config = config_for("wgan-gp", gp_weight=-1)
        build.build_loss(build.component(get_manager(), "loss", config.loss), config)
    assert WGANGP.defaults == {"gp_weight": 10.0}
    assert Hinge.defaults == {} and LSGAN.defaults == {}
