"""Binary cross-entropy on logits, the loss of every source document, without sigmoid + log."""

from __future__ import annotations

from typing import Any, ClassVar

import torch
import torch.nn.functional as F

from ganzoo.components import Loss


class BCE(Loss):
    """Non-saturating BCE: D on real→1 (or 1 - label_smoothing), fake→0; G pushes D(G(z))→1."""

    defaults: ClassVar[dict[str, Any]] = {"label_smoothing": 0.0}

    def __init__(self, label_smoothing: float = 0.0) -> None:
        super().__init__(label_smoothing=label_smoothing)
        if not 0.0 <= label_smoothing < 1.0:
            from ganzoo.errors import UsageError

            raise UsageError(f"label_smoothing must be in [0, 1), got {label_smoothing}.")
        self.smoothing = float(label_smoothing)

    def d_real(self, logits: torch.Tensor) -> torch.Tensor:
        # BCE(x, t) = t·softplus(-x) + (1-t)·softplus(x); with t = 1 - s, no target tensor is needed.
        loss = F.softplus(-logits).mean()
        if self.smoothing:
            loss = (1.0 - self.smoothing) * loss + self.smoothing * F.softplus(logits).mean()
        return loss

    def d_fake(self, logits: torch.Tensor) -> torch.Tensor:
        return F.softplus(logits).mean()

    def g(self, logits: torch.Tensor) -> torch.Tensor:
        return F.softplus(-logits).mean()
