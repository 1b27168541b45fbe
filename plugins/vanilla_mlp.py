"""The vanilla MLP GAN of source 002 (Langr & Bok, "GANs in Action", Manning 2019, chapter 3):
one hidden layer each side, the fully connected GAN of Goodfellow et al. 2014 at its smallest.

Conditional (``--conditional``): G adds a learned vector per class to its hidden layer's input,
which is the one-hot label concatenated with z of Mirza & Osindero 2014 ("Conditional GANs"); D is a
projection discriminator (Miyato & Koyama 2018) on its hidden features. Built without classes, both
are exactly the unconditional networks, parameter for parameter."""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from ganzoo.components import DataSpec
from ganzoo.components import Generator as BaseGenerator
from ganzoo.layers import Projection, ProjectionDiscriminator


class Generator(BaseGenerator):
    """z (100) → Dense 128 → LeakyReLU 0.01 → Dense 784 → tanh → 1x28x28."""

    modalities = ("image", "sequence")
    output = "tanh"
    conditional = True
    defaults: ClassVar[dict[str, Any]] = {"hidden": 128, "negative_slope": 0.01}
    train_defaults: ClassVar[dict[str, Any]] = {
        "latent_dim": 100,
        "prior": "normal",
        "optimizer": "adam",
        "lr": 0.001,
        "betas": [0.9, 0.999],
        "batch_size": 128,
        "loss": "bce",
    }

    def __init__(self, data: DataSpec, latent_dim: int, hidden: int = 128, negative_slope: float = 0.01):
        super().__init__(data, latent_dim)
        self.net = nn.Sequential(
            nn.Linear(latent_dim, hidden),
            nn.LeakyReLU(negative_slope),
            nn.Linear(hidden, data.size),
            nn.Tanh(),
        )
        # W·[z; onehot(y)] = W_z·z + W_y[:, y]: one learned vector per class added to the first layer.
        self.embed = nn.Embedding(len(data.classes), hidden) if data.classes else None

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if self.embed is None or labels is None:
            return self.net(z).view(z.shape[0], *self.data.shape)
        first, *rest = self.net
        h = first(z) + self.embed(labels).to(z.dtype)
        for layer in rest:
            h = layer(h)
        return h.view(z.shape[0], *self.data.shape)


class Discriminator(ProjectionDiscriminator):
    """Flatten → Dense 128 → LeakyReLU 0.01 → Dense 1 (a logit; the seed's sigmoid is in the loss);
    conditional: plus the projection of the hidden features on the label's embedding."""

    modalities = ("image", "sequence")
    defaults: ClassVar[dict[str, Any]] = {"hidden": 128, "negative_slope": 0.01}
    train_defaults: ClassVar[dict[str, Any]] = {"optimizer": "adam", "lr": 0.001, "betas": [0.9, 0.999]}

    def __init__(self, data: DataSpec, hidden: int = 128, negative_slope: float = 0.01):
        super().__init__(data)
        self.net = nn.Sequential(
            nn.Flatten(),
            nn.Linear(data.size, hidden),
            nn.LeakyReLU(negative_slope),
            nn.Linear(hidden, 1),
        )
        self.projection = Projection(hidden, len(data.classes)) if data.classes else None
