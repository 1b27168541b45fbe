"""The upsample-conv GAN of source 000 (Keras, MNIST): nearest upsampling + 5x5 convs, tanh throughout.

Source 000 follows Jacob Gildenblat's keras-dcgan (2016), a Keras port of the DCGAN idea
(Radford et al. 2016) with tanh activations, upsampling instead of transposed convolutions and
SGD with Nesterov momentum; its "nice" sampling is ``ganzoo generate --nice``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from ganzoo.components import DataSpec
from ganzoo.components import Discriminator as BaseDiscriminator
from ganzoo.components import Generator as BaseGenerator
from ganzoo.errors import IncompatibleError
from ganzoo.layers import UpsampleConv2d

# The source's settings for both sides: SGD(lr=0.001, momentum=0.9, nesterov=True).
SGD_NESTEROV: dict[str, Any] = {"optimizer": "sgd", "lr": 0.001, "momentum": 0.9, "nesterov": True}


def _check_image_size(cls: Any, data: DataSpec) -> None:
    """G upsamples twice (sides divisible by 4); D's unpadded 5x5 conv needs at least 12 pixels."""
    _, height, width = data.shape
    if height % 4 or width % 4 or min(height, width) < 12:
        raise IncompatibleError(
            f"The {cls.role()} 'upsample-conv' needs images whose height and width are multiples of 4 "
            f"and at least 12 (such as 1x28x28 or 3x32x32), but the dataset's images are "
            f"{'x'.join(map(str, data.shape))}."
        )


class Generator(BaseGenerator):
    """z (100) → Dense 1024 tanh → Dense 128·7·7 → BN → tanh → 2x up → conv 64 tanh → 2x up → conv C tanh."""

    output = "tanh"
    defaults: ClassVar[dict[str, Any]] = {"hidden": 1024, "start_channels": 128, "conv_channels": 64}
    train_defaults: ClassVar[dict[str, Any]] = {
        "latent_dim": 100,
        "prior": "uniform",
        **SGD_NESTEROV,
        "batch_size": 128,
        "loss": "bce",
    }

    @classmethod
    def check(cls, data: DataSpec) -> None:
        super().check(data)
        _check_image_size(cls, data)

    def __init__(
        self,
        data: DataSpec,
        latent_dim: int,
        hidden: int = 1024,
        start_channels: int = 128,
        conv_channels: int = 64,
    ):
        super().__init__(data, latent_dim)
        channels, height, width = data.shape
        start = (start_channels, height // 4, width // 4)  # 128x7x7 for MNIST
        self.net = nn.Sequential(
            nn.Linear(latent_dim, hidden),
            nn.Tanh(),
            nn.Linear(hidden, start[0] * start[1] * start[2]),
            # Keras BatchNormalization: momentum 0.99 (PyTorch's 0.01) and epsilon 1e-3.
            nn.BatchNorm1d(start[0] * start[1] * start[2], momentum=0.01, eps=1e-3),
            nn.Tanh(),
            nn.Unflatten(1, start),
            # Keras' UpSampling2D then a 5x5 'same' Conv2D, computed at the low resolution.
            UpsampleConv2d(start_channels, conv_channels, 5),
            nn.Tanh(),
            UpsampleConv2d(conv_channels, channels, 5),
            nn.Tanh(),
        )
        self.register_load_state_dict_pre_hook(_renumber_legacy_layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.net(z)
        return out


#: Before UpsampleConv2d (ganzoo 0.2), nn.Upsample had a place of its own in G's Sequential.
_LEGACY_LAYERS = {"net.7.": "net.6.", "net.10.": "net.8."}


def _renumber_legacy_layers(module: nn.Module, state_dict: dict[str, Any], prefix: str, *_: Any) -> None:
    """Loads a generator saved by ganzoo 0.2, whose two convolutions were net.7 and net.10."""
    if prefix + "net.10.weight" not in state_dict:
        return
    for key in [k for k in state_dict if k.startswith(prefix)]:
        for old, new in _LEGACY_LAYERS.items():
            if key.startswith(prefix + old):
                state_dict[prefix + new + key[len(prefix + old) :]] = state_dict.pop(key)


class Discriminator(BaseDiscriminator):
    """Conv 64 (same) tanh → 2x2 max-pool → conv 128 (valid) tanh → Dense 1024 tanh → Dense 1 (a logit).

    The source has one max-pool only, so MNIST reaches the dense layer as 128x10x10; its final
    sigmoid lives in the loss.
    """

    defaults: ClassVar[dict[str, Any]] = {"first_channels": 64, "second_channels": 128, "hidden": 1024}
    train_defaults: ClassVar[dict[str, Any]] = dict(SGD_NESTEROV)

    @classmethod
    def check(cls, data: DataSpec) -> None:
        super().check(data)
        _check_image_size(cls, data)

    def __init__(
        self, data: DataSpec, first_channels: int = 64, second_channels: int = 128, hidden: int = 1024
    ):
        super().__init__(data)
        channels, height, width = data.shape
        flat = second_channels * (height // 2 - 4) * (width // 2 - 4)
        self.net = nn.Sequential(
            nn.Conv2d(channels, first_channels, 5, padding=2),
            nn.Tanh(),
            nn.MaxPool2d(2),
            nn.Conv2d(first_channels, second_channels, 5),
            nn.Tanh(),
            nn.Flatten(),
            nn.Linear(flat, hidden),
            nn.Tanh(),
            nn.Linear(hidden, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).view(-1)
