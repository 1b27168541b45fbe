"""Every registered architecture builds, runs, learns and refuses data it cannot serve, in one clear sentence.

The registry is walked, so an architecture added later is covered without touching this file.
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from ganzoo.build import check_serves, component, lookup
from ganzoo.components import DataSpec
from ganzoo.errors import IncompatibleError, UsageError
from ganzoo.manager import get_manager

SHAPES: dict[tuple[int, ...], str] = {
    (1, 28, 28): "image",
    (3, 32, 32): "image",
    (3, 64, 64): "image",
    (50,): "sequence",
}
BATCH = 4


def _names() -> list[str]:
    return sorted({entry.name for entry in get_manager().registry.entries("generator")})


def _classes(name: str) -> tuple[Any, Any]:
    manager = get_manager()
    return lookup(manager, "generator", name), lookup(manager, "discriminator", name)


def _spec(shape: tuple[int, ...]) -> DataSpec:
    return DataSpec(shape, SHAPES[shape], (0.0, 1.0))


def _build(name: str, shape: tuple[int, ...]) -> tuple[Any, Any]:
    g_cls, d_cls = _classes(name)
    spec = _spec(shape)
    return g_cls(spec, g_cls.train_defaults.get("latent_dim", 100)), d_cls(spec)


def _count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def _snapshot(module: nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.parameters()]


def _finite(tensors: list[torch.Tensor]) -> bool:
    """Whether every entry is finite; one sum per tensor (NaN or inf if any entry is) keeps it quick."""
    return bool(torch.isfinite(torch.stack([t.sum() for t in tensors])).all())


def _changed(module: nn.Module, before: list[torch.Tensor]) -> bool:
    return any(not torch.equal(p, b) for p, b in zip(module.parameters(), before, strict=True))


PAIRS = [(name, shape) for name in _names() for shape in SHAPES]


@pytest.mark.parametrize(("name", "shape"), PAIRS, ids=[f"{n}-{'x'.join(map(str, s))}" for n, s in PAIRS])
def test_architecture_serves_or_refuses_each_shape(name: str, shape: tuple[int, ...]) -> None:
    torch.manual_seed(0)
    g_cls, _ = _classes(name)
    spec = _spec(shape)
    manager = get_manager()
    try:
        check_serves(component(manager, "generator", name), spec)
        check_serves(component(manager, "discriminator", name), spec)
    except IncompatibleError as exc:  # a refusal is one sentence naming the architecture and the shape
        message = str(exc)
        assert f"'{name}'" in message and "x".join(map(str, shape)) in message
        assert message.endswith(".") and "\n" not in message
        return

    g, d = _build(name, shape)
    latent_dim = g.latent_dim
    low, high = g_cls.output_range()
    real = torch.rand(BATCH, *shape) * (high - low) + low
    z = torch.randn(BATCH, latent_dim)

    fake = g(z)
    assert fake.shape == (BATCH, *shape)
    assert fake.min() >= low and fake.max() <= high
    assert d(real).shape == (BATCH,)

    opt_d = torch.optim.SGD(d.parameters(), lr=0.01)
    opt_g = torch.optim.SGD(g.parameters(), lr=0.01)
    d_before, g_before = _snapshot(d), _snapshot(g)

    real_logits, fake_logits = d(real), d(fake.detach())
    d_loss = F.binary_cross_entropy_with_logits(
        real_logits, torch.ones_like(real_logits)
    ) + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    opt_d.zero_grad()
    d_loss.backward()
    assert all(p.grad is not None for p in d.parameters()) and _finite([p.grad for p in d.parameters()])
    opt_d.step()

    fake_logits = d(g(z))
    g_loss = F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))
    opt_g.zero_grad()
    g_loss.backward()
    assert all(p.grad is not None for p in g.parameters()) and _finite([p.grad for p in g.parameters()])
    opt_g.step()

    assert torch.isfinite(d_loss) and torch.isfinite(g_loss)
    assert _changed(d, d_before) and _changed(g, g_before)
    assert _finite([*d.parameters(), *g.parameters()])

    g.eval()
    d.eval()
    with torch.no_grad():
        sample = g(z[:1])  # a batch of one works in eval mode (BatchNorm uses running statistics)
        assert sample.shape == (1, *shape) and torch.isfinite(sample).all()
        assert d(sample).shape == (1,)


@pytest.mark.parametrize("name", _names())
def test_declared_defaults_are_constructor_keywords_and_settings_are_known(name: str) -> None:
    for cls in _classes(name):
        accepted = inspect.signature(cls.__init__).parameters
        assert set(cls.defaults) <= set(accepted), f"{cls.__module__}.{cls.__name__}"
        for key, value in cls.defaults.items():
            assert accepted[key].default == value, f"{cls.__name__}.{key}"
    g_cls, d_cls = _classes(name)
    assert {"latent_dim", "prior", "optimizer", "lr", "batch_size"} <= set(g_cls.train_defaults)
    assert {"optimizer", "lr"} <= set(d_cls.train_defaults)


@pytest.mark.parametrize(
    ("name", "shape", "why"),
    [
        ("sine-1d", (1, 28, 28), "works on sequence data"),
        ("upsample-conv", (50,), "works on image data"),
        ("dcgan", (50,), "works on image data"),
        ("transpose-conv", (50,), "works on image data"),
        ("dcgan", (3, 30, 30), "square images whose side is a start size of 3 to 8 doubled 2 to 4 times"),
        ("dcgan", (3, 32, 64), "square images"),
        ("upsample-conv", (1, 30, 30), "multiples of 4"),
        ("transpose-conv", (1, 30, 30), "multiples of 4"),
        ("sine-1d", (4,), "at least 5 points"),
    ],
)
def test_incompatible_data_is_refused_in_one_sentence(name: str, shape: tuple[int, ...], why: str) -> None:
    manager = get_manager()
    spec = DataSpec(shape, "sequence" if len(shape) == 1 else "image")
    with pytest.raises(IncompatibleError) as err:
        check_serves(component(manager, "generator", name), spec)
        check_serves(component(manager, "discriminator", name), spec)
    message = str(err.value)
    assert why in message and f"'{name}'" in message and "x".join(map(str, shape)) in message


# Parameter counts of the sources' networks on their own data (Keras/TF count BatchNorm's two
# running statistics as parameters too; PyTorch keeps them as buffers, so only γ and β count here).
def _dense(n_in: int, n_out: int) -> int:
    return n_in * n_out + n_out


def _conv(c_in: int, c_out: int, k: int) -> int:
    return c_in * c_out * k * k + c_out


def test_upsample_conv_matches_source_000_on_mnist() -> None:
    g, d = _build("upsample-conv", (1, 28, 28))
    assert _count(g) == (
        _dense(100, 1024) + _dense(1024, 128 * 7 * 7) + 2 * 128 * 7 * 7 + _conv(128, 64, 5) + _conv(64, 1, 5)
    )
    # One max-pool only: 28 → 14 → (valid 5x5) 10, so Dense(1024) sees 128·10·10.
    assert _count(d) == _conv(1, 64, 5) + _conv(64, 128, 5) + _dense(128 * 10 * 10, 1024) + _dense(1024, 1)


def _stack(module: nn.Module, z_or_x: torch.Tensor, kind: type[nn.Module]) -> list[tuple[int, ...]]:
    """The (C, H, W) each layer of ``kind`` produces on one forward pass."""
    shapes: list[tuple[int, ...]] = []
    hooks = [
        m.register_forward_hook(lambda _m, _i, out: shapes.append(tuple(out.shape[1:])))
        for m in module.modules()
        if isinstance(m, kind)
    ]
    module.eval()
    with torch.no_grad():
        module(z_or_x)
    for h in hooks:
        h.remove()
    return shapes


@pytest.mark.parametrize(
    ("shape", "generator_stack", "discriminator_stack"),
    [
        ((1, 28, 28), [(128, 14, 14), (1, 28, 28)], [(64, 14, 14), (128, 7, 7)]),
        (  # source 001 on SVHN: 4x4x512 → 8x8x256 → 16x16x128 → 32x32x3
            (3, 32, 32),
            [(256, 8, 8), (128, 16, 16), (3, 32, 32)],
            [(64, 16, 16), (128, 8, 8), (256, 4, 4)],
        ),
        (
            (3, 64, 64),
            [(512, 8, 8), (256, 16, 16), (128, 32, 32), (3, 64, 64)],
            [(64, 32, 32), (128, 16, 16), (256, 8, 8), (512, 4, 4)],
        ),
    ],
)
def test_dcgan_depth_follows_the_image_size(
    shape: tuple[int, ...],
    generator_stack: list[tuple[int, ...]],
    discriminator_stack: list[tuple[int, ...]],
) -> None:
    g, d = _build("dcgan", shape)
    assert _stack(g, torch.zeros(1, 100), nn.ConvTranspose2d) == generator_stack
    assert _stack(d, torch.zeros(1, *shape), nn.Conv2d) == discriminator_stack


def test_dcgan_matches_source_001_on_svhn() -> None:
    g, d = _build("dcgan", (3, 32, 32))
    assert next(m for m in g.modules() if isinstance(m, nn.Linear)).out_features == 4 * 4 * 512
    assert _count(g) == (
        _dense(100, 4 * 4 * 512)
        + 2 * 512
        + (_conv(512, 256, 5) + 2 * 256)
        + (_conv(256, 128, 5) + 2 * 128)
        + (128 * 3 * 25 + 3)  # a transposed conv's bias has out_channels entries
    )
    assert _count(d) == (
        _conv(3, 64, 5)
        + (_conv(64, 128, 5) + 2 * 128)
        + (_conv(128, 256, 5) + 2 * 256)
        + _dense(4 * 4 * 256, 1)
    )
    norms = [m for m in [*g.modules(), *d.modules()] if isinstance(m, nn.BatchNorm2d)]
    assert len(norms) == 5 and all(m.momentum == 0.01 and m.eps == 1e-3 for m in norms)  # TF's 0.99, 1e-3


def test_transpose_conv_matches_source_003_on_mnist() -> None:
    g, d = _build("transpose-conv", (1, 28, 28))
    assert _count(g) == _dense(100, 128 * 7 * 7) + 2 * _conv(128, 128, 5) + _conv(128, 1, 7)
    assert _count(d) == _conv(1, 64, 5) + _conv(64, 64, 3) + _dense(64 * 7 * 7, 1)


def test_sine_1d_matches_source_004_with_one_logit() -> None:
    g, d = _build("sine-1d", (50,))
    assert _count(g) == _dense(10, 200) + _dense(200, 50)
    # Conv1D(50, 5) leaves 46 positions; the source's Dense(2) two-class head is one logit here.
    assert _count(d) == (1 * 50 * 5 + 50) + _dense(50 * 46, 50) + _dense(50, 1)


def test_sine_1d_depth_width_and_activations() -> None:
    """The hyperparameters issue 25's sine recipe goes through: shapes, parameter counts, output range."""
    g_cls, d_cls = _classes("sine-1d")
    spec = _spec((50,))
    g = g_cls(spec, 10, hidden=64, layers=3, activation="leaky_relu", output_activation="linear")
    assert _count(g) == _dense(10, 64) + 2 * _dense(64, 64) + _dense(64, 50)
    z = torch.rand(BATCH, 10)
    with torch.no_grad():
        g.net[-2].bias.fill_(5.0)  # pre-activations far beyond tanh's reach
        out = g(z)
    assert out.shape == (BATCH, 50) and out.min() > 1.5  # linear: the points are not bounded by ±1
    tanh = g_cls(spec, 10)  # the source's tanh output stays inside (-1, 1)
    with torch.no_grad():
        tanh.net[-2].bias.fill_(5.0)
        assert tanh(z).abs().max() < 1.0
    d = d_cls(spec, layers=2, hidden=32, activation="leaky_relu")
    assert _count(d) == (50 * 5 + 50) + _dense(50 * 46, 32) + _dense(32, 32) + _dense(32, 1)
    assert sum(isinstance(m, nn.LeakyReLU) for m in d.modules()) == 2
    assert d(torch.rand(BATCH, 50)).shape == (BATCH,)
    # The source's D: one Dense layer with no activation after it, so its only non-linearity is the ReLU.
    assert [type(m).__name__ for m in d_cls(spec).net][-3:] == ["Flatten", "Linear", "Linear"]


def test_sine_1d_minibatch_std_lets_d_see_a_batch_of_one_curve() -> None:
    """With minibatch_std, D's last hidden layer gets one more input, the spread of each group of
    consecutive curves: a batch of 8 copies of one curve and a batch of 8 different ones score
    differently at the same curve, which no D that sees one curve at a time can do."""
    _, d_cls = _classes("sine-1d")
    spec = _spec((50,))
    torch.manual_seed(0)
    plain = d_cls(spec, layers=2, hidden=32, activation="leaky_relu", dropout=0.0).eval()
    d = d_cls(spec, layers=2, hidden=32, activation="leaky_relu", dropout=0.0, minibatch_std=4).eval()
    assert _count(d) == _count(plain) + 32  # the second Dense layer takes 32 + 1 inputs
    names = [type(m).__name__ for m in d.net]
    assert names[-5:] == ["LeakyReLU", "MinibatchStd", "Linear", "LeakyReLU", "Linear"]
    varied = torch.rand(BATCH, 50) * 2 - 1
    same = varied[:1].expand(BATCH, 50)
    with torch.no_grad():
        assert not torch.allclose(d(varied)[0], d(same)[0])
        assert torch.allclose(plain(varied)[0], plain(same)[0])
        assert d(varied[:3]).shape == (3,)  # a batch that no group of 4 divides still scores


@pytest.mark.parametrize(
    ("role", "params", "message"),
    [
        ("generator", {"layers": 0}, "generator.layers to be at least 1, not 0"),
        ("generator", {"hidden": 0}, "generator.hidden to be at least 1, not 0"),
        ("generator", {"output_activation": "relu"}, "output_activation = tanh or linear, not 'relu'"),
        ("generator", {"activation": "gelu"}, "generator.activation = tanh or relu or leaky_relu or linear"),
        ("discriminator", {"layers": -1}, "discriminator.layers to be at least 1, not -1"),
        ("discriminator", {"activation": "swish"}, "discriminator.activation = tanh or relu"),
        ("discriminator", {"minibatch_std": 1}, "minibatch_std = 0 (off) or a group size of at least 2"),
        ("discriminator", {"minibatch_std": -4}, "of at least 2, not -4"),
        ("discriminator", {"minibatch_std": 2.5}, "of at least 2, not 2.5"),
    ],
)
def test_sine_1d_refuses_out_of_bounds_hyperparameters(
    role: str, params: dict[str, Any], message: str
) -> None:
    g_cls, d_cls = _classes("sine-1d")
    spec = _spec((50,))
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        g_cls(spec, 10, **params) if role == "generator" else d_cls(spec, **params)
