"""The Wasserstein GAN with gradient penalty of Gulrajani et al. 2017."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import torch

from ganzoo.components import Discriminator, Loss
from ganzoo.errors import TrainingError, UsageError


class WGANGP(Loss):
    """Critic: E[D(G(z))] - E[D(x)] + λ·E[(‖∇D(x̂)‖₂ - 1)²]; G: -E[D(G(z))] (Gulrajani et al. 2017).

    The critic's raw output estimates the Wasserstein-1 distance between the data and the generator
    (Arjovsky et al. 2017) only if D is 1-Lipschitz. Rather than clipping weights, which the paper
    shows wastes capacity and explodes or vanishes gradients, :meth:`penalty` pushes the norm of
    D's input gradient towards 1 on random points x̂ between real and generated samples, where the
    optimal critic has unit-norm gradients (the paper's Algorithm 1, λ = ``gp_weight`` = 10).

    The paper trains the critic 5 times per generator step with Adam (lr 1e-4, betas (0, 0.9)) and
    without batch normalisation in the critic, since the penalty is per sample: a BatchNorm critic
    mixes samples, and its running statistics are also updated by the extra forward over x̂. The
    optimiser settings and D steps are this loss's ``train_defaults``; a recipe that sets its own
    (every source recipe does) or the command line wins over them.
    """

    defaults: ClassVar[dict[str, Any]] = {"gp_weight": 10.0}
    train_defaults: ClassVar[dict[str, Any]] = {
        "d_steps": 5,
        "lr_g": 1e-4,
        "lr_d": 1e-4,
        "betas_g": [0.0, 0.9],
        "betas_d": [0.0, 0.9],
    }

    def __init__(self, gp_weight: float = 10.0) -> None:
        super().__init__(gp_weight=gp_weight)
        if (
            isinstance(gp_weight, bool)
            or not isinstance(gp_weight, (int, float))
            or not math.isfinite(gp_weight)
            or gp_weight < 0
        ):
            raise UsageError(f"gp_weight must be a finite number of at least 0, got {gp_weight!r}.")
        self.gp_weight = float(gp_weight)

    def d_real(self, logits: torch.Tensor) -> torch.Tensor:
        return -logits.float().mean()

    def d_fake(self, logits: torch.Tensor) -> torch.Tensor:
        return logits.float().mean()

    def g(self, logits: torch.Tensor) -> torch.Tensor:
        return -logits.float().mean()

    def penalties(
        self, discriminator: Discriminator, real: torch.Tensor, fake: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        """The gradient penalty, logged as the figure ``gp``."""
        term = self.penalty(discriminator, real, fake)
        return {} if term is None else {"gp": term}

    def penalty(
        self, discriminator: Discriminator, real: torch.Tensor, fake: torch.Tensor
    ) -> torch.Tensor | None:
        """λ·mean over the batch of (‖∇ₓ̂ D(x̂)‖₂ - 1)², x̂ = ε·real + (1 - ε)·fake, ε ~ U[0, 1] per sample.

        ε is drawn from torch's global generator on ``real``'s device (the trainer checkpoints it,
        so resumed runs draw the same ε) and broadcast over every non-batch dimension. Each sample's
        gradient norm is taken over all its dimensions at once (pixels and channels alike), and the
        gradient is built with ``create_graph=True`` so the penalty backpropagates into D's weights.

        The critic runs in float32 with autocast off: the penalty differentiates D twice, and in
        float16 the squared gradient norms underflow or overflow easily and a bfloat16 gradient norm
        is too coarse (8 bits of mantissa) to measure a distance from 1 of a few percent.

        A ``gp_weight`` of 0 returns None, skipping the second backward pass.
        """
        if self.gp_weight == 0.0:
            return None
        if real.shape != fake.shape:
            raise TrainingError(
                f"The wgan-gp penalty needs real and generated batches of the same shape, got "
                f"{tuple(real.shape)} and {tuple(fake.shape)}."
            )
        real32, fake32 = real.detach().float(), fake.detach().float()
        eps = torch.rand((real.shape[0],) + (1,) * (real.ndim - 1), device=real.device)
        x_hat = (eps * real32 + (1.0 - eps) * fake32).requires_grad_(True)
        with torch.autocast(device_type=x_hat.device.type, enabled=False):
            scores = discriminator(x_hat).float()
            (grad,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)
            norms = torch.linalg.vector_norm(grad.flatten(1), dim=1)
            return self.gp_weight * (norms - 1.0).square().mean()
