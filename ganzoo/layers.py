"""Network layers for plugin authors: the pieces ganzoo's own architectures are built from.

:class:`UpsampleConv2d` is nearest 2x upsampling followed by a k×k 'same' convolution, computed
the polyphase way: each of the four output phases (even/odd row × even/odd column) of the
upsampled convolution is a small convolution of the *low-resolution* input with a kernel folded
from the k×k one, so no upsampled tensor is ever made and 5x5 kernels cost 9/25 of the FLOPs.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def _fold_matrix(kernel: int) -> torch.Tensor:
    """(2, K, kernel): for output phase a, which of the kernel's taps land on which input offset.

    Tap t of a 'same' convolution (padding p = kernel // 2) at upsampled position 2i + a reads
    upsampled pixel 2i + a + t - p, which is input pixel i + floor((a + t - p) / 2). Taps reading
    the same input pixel add up; K is the number of distinct offsets, from -p' to K - 1 - p'.
    """
    p = kernel // 2
    offsets = [[(a + t - p) // 2 for t in range(kernel)] for a in (0, 1)]
    low = min(min(o) for o in offsets)
    size = max(max(o) for o in offsets) - low + 1
    m = torch.zeros(2, size, kernel)
    for a in (0, 1):
        for t, o in enumerate(offsets[a]):
            m[a, o - low, t] = 1.0
    return m


class UpsampleConv2d(nn.Conv2d):
    """``nn.Upsample(scale_factor=2, mode="nearest")`` then ``nn.Conv2d(in, out, k, padding=k // 2)``.

    A ``Conv2d`` in every respect that is saved: ``weight`` is (out, in, k, k) and ``bias`` (out,),
    so a state dict saved from the plain upsample-then-conv pair loads here and the other way round.
    The forward pass folds the weight into four (out, in, K, K) phase kernels (K = 3 for k = 5),
    runs one convolution of the input with all four stacked, and interleaves the phases with
    ``pixel_shuffle``; autograd differentiates through the folding, so the weight's gradient is
    the one the plain pair gives, within float rounding. ``polyphase=False`` runs the plain pair
    (for comparisons). Odd kernels only, stride 1, no dilation or groups.
    """

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: int, bias: bool = True, polyphase: bool = True
    ) -> None:
        if kernel_size % 2 != 1:
            raise ValueError(f"UpsampleConv2d needs an odd kernel size, got {kernel_size}.")
        super().__init__(in_channels, out_channels, kernel_size, padding=kernel_size // 2, bias=bias)
        self.polyphase = polyphase
        fold = _fold_matrix(kernel_size)
        self.register_buffer("fold", fold, persistent=False)  # not in the state dict: a constant
        self.phase_padding = -min((t - kernel_size // 2) // 2 for t in range(kernel_size))

    def phase_weight(self) -> torch.Tensor:
        """The four phase kernels stacked as (out·4, in, K, K), output channel c's phases at 4c…4c+3
        in ``pixel_shuffle``'s order (row phase, then column phase)."""
        fold = self.fold.to(self.weight.dtype)
        w = torch.einsum("apt,oitu,bqu->oabipq", fold, self.weight, fold)
        out, _, _, inp, k, _ = w.shape
        return w.reshape(out * 4, inp, k, k)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.polyphase:
            return super().forward(F.interpolate(x, scale_factor=2, mode="nearest"))
        bias = None if self.bias is None else self.bias.repeat_interleave(4)
        y = F.conv2d(x, self.phase_weight(), bias, padding=self.phase_padding)
        return F.pixel_shuffle(y, 2)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, upsample=2x nearest, polyphase={self.polyphase}"
