"""The 1-D sine-curve GAN of source 004 (Keras): a small MLP generator and a Conv1D discriminator.

Source 004 follows Robin Ricard's "GANs, part 2" (2017, Keras and TensorFlow), which learns sine
waves of random phase and frequency with these two networks.

The source's discriminator ends in Dense(2) with a sigmoid, one unit per class (fake, real); here
it ends in one logit for "real", the same decision with the sigmoid moved into the loss.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from ganzoo.components import DataSpec
from ganzoo.components import Discriminator as BaseDiscriminator
from ganzoo.components import Generator as BaseGenerator
from ganzoo.errors import IncompatibleError


def _check_length(data: DataSpec, kernel_size: int) -> None:
    if len(data.shape) != 1 or data.shape[0] < kernel_size:
        raise IncompatibleError(
            f"The discriminator 'sine-1d' needs 1-D sequences of at least {kernel_size} points "
            f"(such as 50), but the dataset's samples have shape {'x'.join(map(str, data.shape))}."
        )


class Generator(BaseGenerator):
    """z (10, uniform in [0, 1)) → Dense 200 tanh → Dense L (50) tanh."""

    modalities = ("sequence",)
    output = "tanh"
    defaults: ClassVar[dict[str, Any]] = {"hidden": 200}
    train_defaults: ClassVar[dict[str, Any]] = {
        "latent_dim": 10,
        "prior": "uniform01",
        "optimizer": "sgd",
        "lr": 0.001,
        "momentum": 0.0,
        "nesterov": False,
        "batch_size": 10000,
        "loss": "bce",
    }

    def __init__(self, data: DataSpec, latent_dim: int, hidden: int = 200):
        super().__init__(data, latent_dim)
        self.net = nn.Sequential(
            nn.Linear(latent_dim, hidden),
            nn.Tanh(),
            nn.Linear(hidden, data.size),
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(z.shape[0], *self.data.shape)


class Discriminator(BaseDiscriminator):
    """(L,) → (1, L) → Conv1D 50x5 relu → Dropout 0.25 → Dense 50 (no activation) → Dense 1 (a logit)."""

    modalities = ("sequence",)
    defaults: ClassVar[dict[str, Any]] = {"channels": 50, "kernel_size": 5, "dropout": 0.25, "hidden": 50}
    train_defaults: ClassVar[dict[str, Any]] = {"optimizer": "adam", "lr": 0.001, "betas": [0.9, 0.999]}

    @classmethod
    def check(cls, data: DataSpec) -> None:
        super().check(data)
        _check_length(data, cls.defaults["kernel_size"])

    def __init__(
        self,
        data: DataSpec,
        channels: int = 50,
        kernel_size: int = 5,
        dropout: float = 0.25,
        hidden: int = 50,
    ):
        super().__init__(data)
        _check_length(data, kernel_size)
        (length,) = data.shape
        self.net = nn.Sequential(
            nn.Unflatten(1, (1, length)),
            nn.Conv1d(1, channels, kernel_size),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Flatten(),
            nn.Linear(channels * (length - kernel_size + 1), hidden),
            nn.Linear(hidden, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).view(-1)
