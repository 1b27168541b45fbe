"""A moving average of the generator's weights, which samples and is evaluated while G trains.

Karras et al. 2018 ("Progressive Growing of GANs", section A.1) sample from such an average;
Yazıcı et al. 2019 ("The Unusual Effectiveness of Averaging in GAN Training") measure why it helps.
"""

from __future__ import annotations

import torch
from torch import nn


@torch.no_grad()
def update_ema(ema: nn.Module, model: nn.Module, decay: float, updates: int | None = None) -> None:
    """ema ← d·ema + (1 - d)·model in one fused call; buffers (BatchNorm statistics) are copied.

    With ``updates`` (the number of G steps so far, this one included) the decay warms up as
    d = min(decay, (1 + updates) / (10 + updates)), as TensorFlow's ExponentialMovingAverage
    does: without it, a 0.999 average of a 500-step run is still 60% the initial weights.
    """
    if updates is not None:
        decay = min(decay, (1 + updates) / (10 + updates))
    torch._foreach_lerp_(list(ema.parameters()), list(model.parameters()), 1.0 - decay)
    for b_ema, b in zip(ema.buffers(), model.buffers(), strict=True):
        b_ema.copy_(b)
