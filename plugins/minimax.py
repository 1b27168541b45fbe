"""The original, saturating minimax game of Goodfellow et al. 2014, on logits."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ganzoo.plugins.bce import BCE


class Minimax(BCE):
    """min_G max_D E[log D(x)] + E[log(1 - D(G(z)))] (Goodfellow et al. 2014, equation 1).

    The discriminator's side is the same binary cross-entropy as ``bce`` (real→1, fake→0, with the
    same optional one-sided ``label_smoothing`` of real targets, Salimans et al. 2016), so this
    class only replaces the generator's loss. G *minimises* log(1 - D(G(z))), which with
    D = σ(x) is log(1 - σ(x)) = -softplus(x): computed that way, never as log(1 - sigmoid), it is
    finite for any logit.

    This is the loss the paper's theory is about, and the one it warns against in practice: its
    gradient, -σ(x), vanishes as D becomes confident that G's samples are fake (x → -∞), which is
    exactly the start of training. The paper's fix, -log D(G(z)), is ``bce``. Kept here so the two
    can be compared.
    """

    def g(self, logits: torch.Tensor) -> torch.Tensor:
        return -F.softplus(logits.float()).mean()
