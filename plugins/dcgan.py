"""The DCGAN of source 001 (TensorFlow 1, SVHN 32x32x3), with its depth derived from the image size.

The architecture is Radford et al. 2016's ("Unsupervised Representation Learning with Deep
Convolutional GANs"): strided convolutions, BatchNorm except at D's input and G's output,
LeakyReLU 0.2 in D, Adam 2e-4 with β1 = 0.5. Source 001 adds one-sided label smoothing
(Salimans et al. 2016, "Improved Techniques for Training GANs", section 3.4).

Both networks use the same plan for a square image of side H: halve H while the result is a whole
number of at least 3, at most 4 times; the number of halvings is the number of stages k and what is
left is the start size s, so H = s·2^k. Sizes with k ≥ 2 and s ≤ 8 are accepted::

    28 → s=7, k=2: 7x7x256 → 14x14x128 → 28x28xC
    32 → s=4, k=3: 4x4x512 → 8x8x256 → 16x16x128 → 32x32xC   (the source's SVHN network)
    64 → s=4, k=4: 4x4x1024 → 8x8x512 → 16x16x256 → 32x32x128 → 64x64xC

Conditional (``--conditional``): every BatchNorm of G becomes a conditional BatchNorm, its scale
and shift learned per class (as Miyato & Koyama 2018 condition their generator), and D is a
projection discriminator on its flattened last features. Built without classes, both are exactly
the unconditional networks, parameter for parameter.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any, ClassVar

import torch
from torch import nn

from ganzoo.components import DataSpec
from ganzoo.components import Generator as BaseGenerator
from ganzoo.errors import IncompatibleError
from ganzoo.layers import ConditionalBatchNorm2d, Projection, ProjectionDiscriminator

ADAM: dict[str, Any] = {"optimizer": "adam", "lr": 0.0002, "betas": [0.5, 0.999]}


def plan(side: int) -> tuple[int, int]:
    """(start size s, stages k) for an image side: s·2^k = side, halving to whole sizes ≥ 3, k ≤ 4."""
    stages = 0
    while stages < 4 and side % 2 == 0 and side // 2 >= 3:
        side //= 2
        stages += 1
    return side, stages


def _check_square(cls: Any, data: DataSpec) -> None:
    _, height, width = data.shape
    start, stages = plan(height)
    if height != width or stages < 2 or start > 8:
        raise IncompatibleError(
            f"The {cls.role()} 'dcgan' needs square images whose side is a start size of 3 to 8 doubled "
            f"2 to 4 times (such as 28, 32 or 64), but the dataset's images are "
            f"{'x'.join(map(str, data.shape))}."
        )


def _batch_norm(channels: int, classes: int = 0) -> nn.Module:
    # tf.layers.batch_normalization: momentum 0.99 (PyTorch's 0.01) and epsilon 1e-3.
    if classes:
        return ConditionalBatchNorm2d(channels, classes, momentum=0.01, eps=1e-3)
    return nn.BatchNorm2d(channels, momentum=0.01, eps=1e-3)


def _up(c_in: int, c_out: int) -> nn.ConvTranspose2d:
    """A 5x5 stride-2 transposed conv that doubles height and width (TF's padding='same')."""
    return nn.ConvTranspose2d(c_in, c_out, 5, stride=2, padding=2, output_padding=1)


class Generator(BaseGenerator):
    """z (100) → Dense 4x4x512 (at 32x32) → BN → LReLU 0.2 → [5x5 s2 transposed conv → BN → LReLU] … → tanh.

    ``base_channels`` is the width of the last hidden stage; each earlier stage doubles it, so the
    dense layer feeds base·2^(k-1) channels (512 for 32x32, as in the source).
    """

    output = "tanh"
    conditional = True
    defaults: ClassVar[dict[str, Any]] = {"base_channels": 128, "negative_slope": 0.2}
    train_defaults: ClassVar[dict[str, Any]] = {
        "latent_dim": 100,
        "prior": "uniform",
        **ADAM,
        "batch_size": 128,
        "loss": "bce",
    }

    @classmethod
    def check(cls, data: DataSpec) -> None:
        super().check(data)
        _check_square(cls, data)

    def __init__(
        self, data: DataSpec, latent_dim: int, base_channels: int = 128, negative_slope: float = 0.2
    ):
        super().__init__(data, latent_dim)
        channels, side, _ = data.shape
        start, stages = plan(side)
        widths = [base_channels * 2 ** (stages - 1 - i) for i in range(stages)]  # 512, 256, 128 at 32x32
        classes = len(data.classes)
        layers: list[nn.Module] = [
            nn.Linear(latent_dim, widths[0] * start * start),
            nn.Unflatten(1, (widths[0], start, start)),
            _batch_norm(widths[0], classes),
            nn.LeakyReLU(negative_slope),
        ]
        for c_in, c_out in pairwise(widths):
            layers += [_up(c_in, c_out), _batch_norm(c_out, classes), nn.LeakyReLU(negative_slope)]
        layers += [_up(widths[-1], channels), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if labels is None:
            out: torch.Tensor = self.net(z)
            return out
        for layer in self.net:
            z = layer(z, labels) if isinstance(layer, ConditionalBatchNorm2d) else layer(z)
        return z


class Discriminator(ProjectionDiscriminator):
    """[5x5 stride-2 conv (64, 128, 256 …) → BN (not on the first) → LReLU 0.2] x k → Dense 1 (a logit);
    conditional: plus the projection of the flattened last features on the label's embedding."""

    defaults: ClassVar[dict[str, Any]] = {"base_channels": 64, "negative_slope": 0.2}
    train_defaults: ClassVar[dict[str, Any]] = dict(ADAM)

    @classmethod
    def check(cls, data: DataSpec) -> None:
        super().check(data)
        _check_square(cls, data)

    def __init__(self, data: DataSpec, base_channels: int = 64, negative_slope: float = 0.2):
        super().__init__(data)
        channels, side, _ = data.shape
        start, stages = plan(side)
        widths = [channels] + [base_channels * 2**i for i in range(stages)]  # C, 64, 128, 256 at 32x32
        layers: list[nn.Module] = []
        for i, (c_in, c_out) in enumerate(pairwise(widths)):
            layers.append(nn.Conv2d(c_in, c_out, 5, stride=2, padding=2))
            if i > 0:
                layers.append(_batch_norm(c_out))
            layers.append(nn.LeakyReLU(negative_slope))
        features = widths[-1] * start * start
        layers += [nn.Flatten(), nn.Linear(features, 1)]
        self.net = nn.Sequential(*layers)
        self.projection = Projection(features, len(data.classes)) if data.classes else None
