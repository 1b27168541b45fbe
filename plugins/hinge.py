"""The hinge loss of geometric GANs (Lim & Ye 2017) and SN-GAN (Miyato et al. 2018)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ganzoo.components import Loss


class Hinge(Loss):
    """D: E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))]; G: -E[D(G(z))].

    The discriminator is a max-margin classifier on raw scores (no sigmoid): it is pushed only while
    a real score is below +1 or a fake score above -1, and a sample already beyond the margin gives
    it no gradient at all, so D stops spending capacity on samples it separates well (Lim & Ye 2017,
    "Geometric GAN"). The generator raises D's score on its samples linearly, with a gradient that
    never saturates (Miyato et al. 2018 use this pair with spectral normalisation; so do SAGAN and
    BigGAN). Computed in float32 so the scalars stay float32 under autocast.
    """

    def __init__(self) -> None:
        super().__init__()

    def d_real(self, logits: torch.Tensor) -> torch.Tensor:
        return F.relu(1.0 - logits.float()).mean()

    def d_fake(self, logits: torch.Tensor) -> torch.Tensor:
        return F.relu(1.0 + logits.float()).mean()

    def g(self, logits: torch.Tensor) -> torch.Tensor:
        return -logits.float().mean()
