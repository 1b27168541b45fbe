"""The least-squares GAN of Mao et al. 2017."""

from __future__ import annotations

import torch

from ganzoo.components import Loss


class LSGAN(Loss):
    """D: ½E[(D(x) - 1)²] + ½E[D(G(z))²]; G: ½E[(D(G(z)) - 1)²] (Mao et al. 2017, the 0-1 coding).

    The paper's a-b-c coding with a = 0 (fake target), b = 1 (real target) and c = 1 (the value G
    wants D to believe), applied to the discriminator's raw output (no sigmoid). Unlike the sigmoid
    cross-entropy, the squared error keeps penalising generated samples that lie on the "real" side
    of the boundary but far from the real data, so G's gradient does not vanish as D grows
    confident. Computed in float32 (``logits.float()``): the squares of large float16 scores
    overflow, and the scalars stay float32 under autocast with float16 or bfloat16.
    """

    def __init__(self) -> None:
        super().__init__()

    def d_real(self, logits: torch.Tensor) -> torch.Tensor:
        return 0.5 * (logits.float() - 1.0).square().mean()

    def d_fake(self, logits: torch.Tensor) -> torch.Tensor:
        return 0.5 * logits.float().square().mean()

    def g(self, logits: torch.Tensor) -> torch.Tensor:
        return 0.5 * (logits.float() - 1.0).square().mean()
