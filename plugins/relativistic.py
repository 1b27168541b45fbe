"""Relativistic losses: D judges whether a real sample is more realistic than a generated one.

Both are pairwise losses (``Loss.pairwise``): D's and G's objectives see the logits of the real
and the generated batch together, and G's step runs D on a real batch too.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
import torch.nn.functional as F

from ganzoo.components import Loss


class RPGAN(Loss):
    """Relativistic pairing: D: E[softplus(D(G(z)) - D(x))]; G: E[softplus(D(x) - D(G(z)))].

    Each generated sample is paired with one real sample of the same batch position, and D is
    asked only that the real one score higher (Huang et al. 2024, "The GAN is dead; long live the
    GAN! A Modern GAN Baseline", section 2; Sun et al. 2020 for its landscape). With zero-centred
    R1 and R2 penalties (``--set loss.r1=γ --set loss.r2=γ``) it is R3GAN's objective, which the
    paper shows converges locally and covers every mode of StackedMNIST where the non-saturating
    loss with the same penalties does not. ``train_defaults`` are the paper's: Adam with β1 = 0.
    """

    pairwise = True
    train_defaults: ClassVar[dict[str, Any]] = {
        "d_update": "joint",
        "betas_g": [0.0, 0.99],
        "betas_d": [0.0, 0.99],
    }

    def d_loss(self, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
        return F.softplus(fake_logits.float() - real_logits.float()).mean()

    def g_loss(self, fake_logits: torch.Tensor, real_logits: torch.Tensor | None) -> torch.Tensor:
        assert real_logits is not None
        return F.softplus(real_logits.float() - fake_logits.float()).mean()


class RaGAN(Loss):
    """Relativistic average (RaSGAN, Jolicoeur-Martineau 2018, "The relativistic discriminator: a key
    element missing from standard GAN", section 4.2), with D̃(x_r) = σ(C(x_r) - E[C(x_f)]) and
    D̃(x_f) = σ(C(x_f) - E[C(x_r)]):

    D: -E[log D̃(x_r)] - E[log(1 - D̃(x_f))];  G: -E[log D̃(x_f)] - E[log(1 - D̃(x_r))].

    Each sample is compared with the other batch's mean score rather than with a partner; -log σ
    is softplus of the negation, so every term stays finite for any logit.
    """

    pairwise = True
    train_defaults: ClassVar[dict[str, Any]] = {"d_update": "joint"}

    @staticmethod
    def _relative(real: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        real, fake = real.float(), fake.float()
        return real - fake.mean(), fake - real.mean()

    def d_loss(self, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
        r, f = self._relative(real_logits, fake_logits)
        return F.softplus(-r).mean() + F.softplus(f).mean()

    def g_loss(self, fake_logits: torch.Tensor, real_logits: torch.Tensor | None) -> torch.Tensor:
        assert real_logits is not None
        r, f = self._relative(real_logits, fake_logits)
        return F.softplus(-f).mean() + F.softplus(r).mean()
