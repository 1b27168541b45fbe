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
from ganzoo.errors import IncompatibleError, UsageError
from ganzoo.layers import MinibatchStd

#: The activations the networks' hyperparameters may name; "linear" is none at all.
ACTIVATIONS = ("tanh", "relu", "leaky_relu", "linear")


def _activation(name: str) -> nn.Module:
    if name == "tanh":
        return nn.Tanh()
    if name == "relu":
        return nn.ReLU()
    if name == "leaky_relu":
        return nn.LeakyReLU(0.2)
    return nn.Identity()


def _check_choice(role: str, key: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise UsageError(f"The {role} 'sine-1d' takes {role}.{key} = {' or '.join(choices)}, not {value!r}.")


def _check_count(role: str, key: str, value: int, low: int) -> None:
    if value < low:
        raise UsageError(f"The {role} 'sine-1d' needs {role}.{key} to be at least {low}, not {value}.")


def _check_length(data: DataSpec, kernel_size: int) -> None:
    if len(data.shape) != 1 or data.shape[0] < kernel_size:
        raise IncompatibleError(
            f"The discriminator 'sine-1d' needs 1-D sequences of at least {kernel_size} points "
            f"(such as 50), but the dataset's samples have shape {'x'.join(map(str, data.shape))}."
        )


class Generator(BaseGenerator):
    """z (10, uniform in [0, 1)) → Dense 200 tanh → Dense L (50) tanh: source 004's.

    ``layers`` hidden layers of ``hidden`` units with ``activation`` between them, and the
    ``output_activation`` after the last Dense: "tanh" (the source's) bounds every point in (-1, 1),
    which the data's ±1 crests reach only at an infinite pre-activation; "linear" leaves the
    points unbounded (the data stay mapped to [-1, 1]).
    """

    modalities = ("sequence",)
    output = "tanh"
    defaults: ClassVar[dict[str, Any]] = {
        "hidden": 200,
        "layers": 1,
        "activation": "tanh",
        "output_activation": "tanh",
    }
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

    def __init__(
        self,
        data: DataSpec,
        latent_dim: int,
        hidden: int = 200,
        layers: int = 1,
        activation: str = "tanh",
        output_activation: str = "tanh",
    ):
        super().__init__(data, latent_dim)
        _check_count("generator", "layers", layers, 1)
        _check_count("generator", "hidden", hidden, 1)
        _check_choice("generator", "activation", activation, ACTIVATIONS)
        _check_choice("generator", "output_activation", output_activation, ("tanh", "linear"))
        stack: list[nn.Module] = []
        width = latent_dim
        for _ in range(layers):
            stack += [nn.Linear(width, hidden), _activation(activation)]
            width = hidden
        stack += [nn.Linear(width, data.size), _activation(output_activation)]
        self.net = nn.Sequential(*stack)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(z.shape[0], *self.data.shape)


class Discriminator(BaseDiscriminator):
    """(L,) → (1, L) → Conv1D 50x5 relu → Dropout 0.25 → Dense 50 (no activation) → Dense 1 (a logit).

    ``layers`` Dense layers of ``hidden`` units after the convolution, each followed by
    ``activation``: the source's one layer with none ("linear") leaves D a single non-linear layer,
    the convolution's ReLU. ``minibatch_std`` (a group size of 2 or more; 0, the source's, is off)
    feeds the last hidden Dense layer one more input, how varied each group of that many consecutive
    samples is (:class:`ganzoo.layers.MinibatchStd`), so that D can see a generator that draws
    every curve at one frequency.
    """

    modalities = ("sequence",)
    defaults: ClassVar[dict[str, Any]] = {
        "channels": 50,
        "kernel_size": 5,
        "dropout": 0.25,
        "hidden": 50,
        "layers": 1,
        "activation": "linear",
        "minibatch_std": 0,
    }
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
        layers: int = 1,
        activation: str = "linear",
        minibatch_std: int = 0,
    ):
        super().__init__(data)
        _check_length(data, kernel_size)
        _check_count("discriminator", "layers", layers, 1)
        _check_choice("discriminator", "activation", activation, ACTIVATIONS)
        if (
            isinstance(minibatch_std, bool)
            or not isinstance(minibatch_std, int)
            or minibatch_std == 1
            or minibatch_std < 0
        ):
            raise UsageError(
                "The discriminator 'sine-1d' takes discriminator.minibatch_std = 0 (off) or a group size "
                f"of at least 2, not {minibatch_std!r}."
            )
        (length,) = data.shape
        stack: list[nn.Module] = [
            nn.Unflatten(1, (1, length)),
            nn.Conv1d(1, channels, kernel_size),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Flatten(),
        ]
        width = channels * (length - kernel_size + 1)
        for i in range(layers):
            if minibatch_std and i == layers - 1:
                stack.append(MinibatchStd(minibatch_std))
                width += 1
            stack.append(nn.Linear(width, hidden))
            if activation != "linear":
                stack.append(_activation(activation))
            width = hidden
        stack.append(nn.Linear(width, 1))
        self.net = nn.Sequential(*stack)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).view(-1)
