"""ganzoo.layers: UpsampleConv2d's polyphase form equals nearest 2x upsampling then a 'same' conv;
MinibatchStd appends each group's spread."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from ganzoo.components import DataSpec
from ganzoo.layers import MinibatchStd, UpsampleConv2d
from ganzoo.plugins import upsample_conv


def _plain(layer: UpsampleConv2d, x: torch.Tensor) -> torch.Tensor:
    """The pair it replaces, written out: nn.Upsample(2, nearest) then the layer's own Conv2d."""
    conv = nn.Conv2d(layer.in_channels, layer.out_channels, layer.kernel_size, padding=layer.padding)
    conv.load_state_dict(layer.state_dict())
    return conv(nn.Upsample(scale_factor=2, mode="nearest")(x))


@pytest.mark.parametrize(
    ("kernel", "size"), [(5, (7, 7)), (5, (14, 14)), (3, (6, 9)), (1, (4, 4)), (7, (8, 5))]
)
def test_forward_equals_upsample_then_conv(kernel: int, size: tuple[int, int]) -> None:
    torch.manual_seed(0)
    layer = UpsampleConv2d(6, 4, kernel).double()
    x = torch.randn(3, 6, *size, dtype=torch.float64)
    expected = _plain(layer.float(), x.float()).double()
    layer = layer.double()
    out = layer(x)
    assert out.shape == (3, 4, 2 * size[0], 2 * size[1])
    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-5)


def test_backward_equals_upsample_then_conv_within_float_rounding() -> None:
    """The input's, the weight's and the bias's gradients, in float32 as training runs."""
    torch.manual_seed(0)
    layer = UpsampleConv2d(16, 8, 5)
    conv = nn.Conv2d(16, 8, 5, padding=2)
    conv.load_state_dict(layer.state_dict())
    x = torch.randn(4, 16, 7, 7)
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    grad_out = torch.randn(4, 8, 14, 14)
    layer(x1).backward(grad_out)
    conv(F.interpolate(x2, scale_factor=2, mode="nearest")).backward(grad_out)
    for a, b in (
        (x1.grad, x2.grad),
        (layer.weight.grad, conv.weight.grad),
        (layer.bias.grad, conv.bias.grad),
    ):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)


def test_the_plain_form_is_kept_for_comparisons() -> None:
    torch.manual_seed(0)
    fast, plain = UpsampleConv2d(3, 2, 5), UpsampleConv2d(3, 2, 5, polyphase=False)
    plain.load_state_dict(fast.state_dict())
    x = torch.randn(2, 3, 5, 5)
    torch.testing.assert_close(fast(x), plain(x), rtol=1e-5, atol=1e-5)


def test_its_state_dict_is_a_conv2ds() -> None:
    layer = UpsampleConv2d(3, 2, 5)
    assert set(layer.state_dict()) == {"weight", "bias"}
    assert layer.weight.shape == (2, 3, 5, 5)
    nn.Conv2d(3, 2, 5, padding=2).load_state_dict(layer.state_dict())  # and the other way round


def test_even_kernels_are_refused() -> None:
    with pytest.raises(ValueError, match="odd kernel"):
        UpsampleConv2d(3, 2, 4)


def test_bf16_autocast_runs_and_stays_close() -> None:
    torch.manual_seed(0)
    layer = UpsampleConv2d(8, 4, 5)
    x = torch.randn(2, 8, 7, 7)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = layer(x)
    torch.testing.assert_close(out.float(), layer(x), rtol=0.05, atol=0.05)


def test_a_generator_saved_by_ganzoo_0_2_still_loads() -> None:
    """Before UpsampleConv2d the two convolutions were net.7 and net.10 of G's Sequential."""
    spec = DataSpec((1, 28, 28), "image")
    g = upsample_conv.Generator(spec, latent_dim=100)
    old = {}
    for key, value in g.state_dict().items():
        key = key.replace("net.8.", "net.10.").replace("net.6.", "net.7.")
        old[key] = torch.randn_like(value) if value.is_floating_point() else value
    fresh = upsample_conv.Generator(spec, latent_dim=100)
    fresh.load_state_dict(old)
    assert torch.equal(fresh.net[6].weight, old["net.7.weight"])
    assert torch.equal(fresh.net[8].bias, old["net.10.bias"])


def test_minibatch_std_appends_each_groups_spread() -> None:
    x = torch.tensor([[0.0, 0.0], [2.0, 4.0], [1.0, 1.0], [1.0, 1.0]])
    out = MinibatchStd(2)(x)
    assert out.shape == (4, 3) and torch.equal(out[:, :2], x)
    # group [0, 1]: std per feature 1 and 2, mean 1.5; group [2, 3]: identical rows, spread ~0
    assert torch.allclose(out[:, 2], torch.tensor([1.5, 1.5, 0.0, 0.0]), atol=1e-3)


def test_minibatch_std_groups_stay_whole_and_on_one_side_of_a_concatenated_batch() -> None:
    """Groups are consecutive samples: in [real; fake] with halves a multiple of the group size no
    group mixes the two, and a batch no group size divides falls back to the largest divisor."""
    real, fake = torch.randn(8, 5), torch.zeros(8, 5)
    out = MinibatchStd(4)(torch.cat([real, fake]))
    assert (out[8:, -1] < 1e-3).all() and (out[:8, -1] > 0.1).all()
    odd = MinibatchStd(4)(torch.randn(6, 5))  # 6: groups of 3
    assert odd[0, -1] == odd[2, -1] and odd[3, -1] == odd[5, -1] and odd[0, -1] != odd[3, -1]
    assert MinibatchStd(4)(torch.randn(1, 5))[0, -1] < 1e-3  # a batch of one has no spread
    out = MinibatchStd(4)(torch.randn(8, 2, 3))  # any sample shape: flattened, then one more feature
    assert out.shape == (8, 7)


def test_minibatch_std_refuses_groups_of_one() -> None:
    with pytest.raises(ValueError, match="at least 2 samples, not 1"):
        MinibatchStd(1)
