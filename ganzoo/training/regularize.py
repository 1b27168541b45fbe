"""Zero-centred gradient penalties on D, usable with any loss.

R1 (Mescheder et al. 2018, "Which Training Methods for GANs do actually Converge?") penalises the
norm of D's gradient at real data, R2 at generated data: γ/2·E[‖∇ₓD(x)‖²]. Huang et al. 2024
(R3GAN) use both with the relativistic pairing loss. With ``reg_every`` = k the penalties are
computed every k-th D step only and weighted k times (Karras et al. 2020, StyleGAN2's lazy
regularisation): the same average strength for a fraction of the cost.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from ganzoo.settings import CORE_PARAMS, check_core_param

#: The loss hyperparameters ganzoo itself owns (every loss has them): ``--set loss.r1=γ``.
DEFAULTS: dict[str, Any] = CORE_PARAMS["loss"]


@dataclass(frozen=True)
class Regularizers:
    """The run's R1 and R2 weights γ and how often they are computed."""

    r1: float = 0.0
    r2: float = 0.0
    every: int = 1

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> Regularizers:
        """From the run's loss hyperparameters (their ranges checked when it was planned:
        ``settings.check_core_param``)."""
        r1, r2, every = (params.get(k, DEFAULTS[k]) for k in ("r1", "r2", "reg_every"))
        for name, value in (("r1", r1), ("r2", r2), ("reg_every", every)):
            check_core_param("loss", name, value)
        return cls(float(r1), float(r2), int(every))

    def names(self) -> tuple[str, ...]:
        return tuple(n for n, g in (("r1", self.r1), ("r2", self.r2)) if g > 0)

    def terms(
        self, discriminator: Any, real: torch.Tensor, fake: torch.Tensor, d_step: int
    ) -> dict[str, torch.Tensor]:
        """The penalties due at D step ``d_step`` (counted over the run), weighted; zeros when not due."""
        due = d_step % self.every == 0
        out = {}
        for name, gamma, x in (("r1", self.r1, real), ("r2", self.r2, fake)):
            if gamma > 0:
                out[name] = (
                    (gamma / 2 * self.every) * gradient_norm2(discriminator, x) if due else real.new_zeros(())
                )
        return out


def gradient_norm2(discriminator: Any, x: torch.Tensor) -> torch.Tensor:
    """E over the batch of ‖∇ₓD(x)‖², each sample's gradient over all its dimensions; float32,
    autocast off (the gradient of a gradient is too coarse in bfloat16 and overflows in float16)."""
    x = x.detach().float().requires_grad_(True)
    with torch.autocast(device_type=x.device.type, enabled=False):
        scores = discriminator(x).float()
        (grad,) = torch.autograd.grad(scores.sum(), x, create_graph=True)
    return grad.flatten(1).square().sum(dim=1).mean()
