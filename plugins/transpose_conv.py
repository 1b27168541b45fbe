"""The transposed-convolution GAN of source 003 (Keras blog, MNIST in [0, 1]): G ends in a sigmoid."""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from ganzoo.components import DataSpec
from ganzoo.components import Discriminator as BaseDiscriminator
from ganzoo.components import Generator as BaseGenerator
from ganzoo.errors import IncompatibleError

ADAM: dict[str, Any] = {"optimizer": "adam", "lr": 0.0002, "betas": [0.5, 0.999]}


def _check_image_size(cls: Any, data: DataSpec) -> None:
    _, height, width = data.shape
    if height % 4 or width % 4:
        raise IncompatibleError(
            f"The {cls.role()} 'transpose-conv' needs images whose height and width are multiples of 4 "
            f"(such as 1x28x28 or 3x32x32), but the dataset's images are {'x'.join(map(str, data.shape))}."
        )


class Generator(BaseGenerator):
    """z (100) → Dense 128·7·7 → [5x5 stride-2 transposed conv 128 → LReLU 0.2] x 2 → 7x7 conv C → sigmoid.

    As in the source, the dense layer has no activation of its own.
    """

    output = "sigmoid"
    defaults: ClassVar[dict[str, Any]] = {"channels": 128, "negative_slope": 0.2}
    train_defaults: ClassVar[dict[str, Any]] = {
        "latent_dim": 100,
        "prior": "normal",
        **ADAM,
        "batch_size": 256,
        "loss": "bce",
    }

    @classmethod
    def check(cls, data: DataSpec) -> None:
        super().check(data)
        _check_image_size(cls, data)

    def __init__(self, data: DataSpec, latent_dim: int, channels: int = 128, negative_slope: float = 0.2):
        super().__init__(data, latent_dim)
        out_channels, height, width = data.shape
        start = (channels, height // 4, width // 4)  # 128x7x7 for MNIST
        self.net = nn.Sequential(
            nn.Linear(latent_dim, start[0] * start[1] * start[2]),
            nn.Unflatten(1, start),
            # Keras padding="same" with stride 2 doubles the size; output_padding=1 does that here.
            nn.ConvTranspose2d(channels, channels, 5, stride=2, padding=2, output_padding=1),
            nn.LeakyReLU(negative_slope),
            nn.ConvTranspose2d(channels, channels, 5, stride=2, padding=2, output_padding=1),
            nn.LeakyReLU(negative_slope),
            nn.Conv2d(channels, out_channels, 7, padding=3),
            nn.Sigmoid(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.net(z)
        return out


class Discriminator(BaseDiscriminator):
    """5x5 s2 conv 64 → LReLU 0.2 → Dropout 0.4 → 3x3 s2 conv 64 → LReLU → Dropout → Dense 1 (a logit)."""

    defaults: ClassVar[dict[str, Any]] = {"channels": 64, "dropout": 0.4, "negative_slope": 0.2}
    train_defaults: ClassVar[dict[str, Any]] = dict(ADAM)

    @classmethod
    def check(cls, data: DataSpec) -> None:
        super().check(data)
        _check_image_size(cls, data)

    def __init__(self, data: DataSpec, channels: int = 64, dropout: float = 0.4, negative_slope: float = 0.2):
        super().__init__(data)
        in_channels, height, width = data.shape
        self.net = nn.Sequential(
            nn.Conv2d(in_channels, channels, 5, stride=2, padding=2),
            nn.LeakyReLU(negative_slope),
            nn.Dropout(dropout),
            nn.Conv2d(channels, channels, 3, stride=2, padding=1),
            nn.LeakyReLU(negative_slope),
            nn.Dropout(dropout),
            nn.Flatten(),
            nn.Linear(channels * (height // 4) * (width // 4), 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).view(-1)
