"""Binary cross-entropy on logits, the loss of every source document, without sigmoid + log."""

from __future__ import annotations

from typing import Any, ClassVar

import torch
import torch.nn.functional as F

from ganzoo.components import Loss
from ganzoo.errors import UsageError


class BCE(Loss):
    """Non-saturating BCE: D on real→1 (or 1 - label_smoothing), fake→0; G pushes D(G(z))→1.

    Goodfellow et al. 2014 (section 3) suggest this generator loss, -log D(G(z)), in place of the
    saturating log(1 - D(G(z))) of the minimax game (see :mod:`ganzoo.plugins.minimax`): both have
    the same fixed point, but this one still gives strong gradients while D rejects G's samples.
    With sigmoid σ, -log σ(x) = softplus(-x) and -log(1 - σ(x)) = softplus(x), which stay finite for
    any logit. The logits are cast to float32 first, so the loss is a float32 scalar under autocast.
    """

    defaults: ClassVar[dict[str, Any]] = {"label_smoothing": 0.0}

    def __init__(self, label_smoothing: float = 0.0) -> None:
        super().__init__(label_smoothing=label_smoothing)
        if not 0.0 <= label_smoothing < 1.0:
            raise UsageError(f"label_smoothing must be in [0, 1), got {label_smoothing}.")
        self.smoothing = float(label_smoothing)

    def d_real(self, logits: torch.Tensor) -> torch.Tensor:
        # BCE(x, t) = t·softplus(-x) + (1-t)·softplus(x); with t = 1 - s, no target tensor is needed.
        x = logits.float()
        loss = F.softplus(-x).mean()
        if self.smoothing:
            loss = (1.0 - self.smoothing) * loss + self.smoothing * F.softplus(x).mean()
        return loss

    def d_fake(self, logits: torch.Tensor) -> torch.Tensor:
        return F.softplus(logits.float()).mean()

    def g(self, logits: torch.Tensor) -> torch.Tensor:
        return F.softplus(-logits.float()).mean()
