"""Network layers for plugin authors: the pieces ganzoo's own architectures are built from.

The conditional pieces: :class:`Projection` and :class:`ProjectionDiscriminator` (a projection
discriminator, Miyato & Koyama 2018) and :class:`ConditionalBatchNorm2d` (a scale and shift per class).

:class:`UpsampleConv2d` is nearest 2x upsampling followed by a k×k 'same' convolution, computed
the polyphase way: each of the four output phases (even/odd row × even/odd column) of the
upsampled convolution is a small convolution of the *low-resolution* input with a kernel folded
from the k×k one, so no upsampled tensor is ever made and 5x5 kernels cost 9/25 of the FLOPs.

:class:`MinibatchStd` lets a discriminator see how varied a group of samples is (Karras et al. 2018).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ganzoo.components import Discriminator
from ganzoo.errors import UsageError


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


class ConditionalBatchNorm2d(nn.Module):
    """BatchNorm whose scale and shift are each class's own (de Vries et al. 2017; Miyato & Koyama
    2018 condition their generator this way): ``cbn(x, labels)``.

    The statistics are one BatchNorm's over the whole batch; the per-class γ start at 1 and β at 0,
    so an untrained layer is a plain BatchNorm. ``momentum`` and ``eps`` are BatchNorm2d's.
    """

    def __init__(self, channels: int, classes: int, momentum: float = 0.1, eps: float = 1e-5) -> None:
        super().__init__()
        self.bn = nn.BatchNorm2d(channels, affine=False, momentum=momentum, eps=eps)
        self.gamma = nn.Embedding(classes, channels)
        self.beta = nn.Embedding(classes, channels)
        nn.init.ones_(self.gamma.weight)
        nn.init.zeros_(self.beta.weight)

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.bn(x)
        n, c = labels.shape[0], out.shape[1]
        return out * self.gamma(labels).view(n, c, 1, 1) + self.beta(labels).view(n, c, 1, 1)


class Projection(nn.Module):
    """The class term of a projection discriminator (Miyato & Koyama 2018, "cGANs with Projection
    Discriminator"): ``D(x, y) = ψ(φ(x)) + ⟨e_y, φ(x)⟩`` where φ(x) are D's last features and e_y a
    learned embedding of class y. ``proj(features, labels)`` is the inner product, (N,);
    ``proj.logits(features)`` is it for every class, (N, classes): the classifier the projection
    implies (its softmax is D's estimate of p(y | x)), which ACGAN's loss trains (``loss.acgan``).
    """

    def __init__(self, features: int, classes: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(classes, features)
        # Small, so an untrained conditional D starts as its unconditional self.
        nn.init.normal_(self.embed.weight, std=0.02)

    def forward(self, features: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return (self.embed(labels).to(features.dtype) * features.flatten(1)).sum(dim=1)

    def logits(self, features: torch.Tensor) -> torch.Tensor:
        return features.flatten(1) @ self.embed.weight.to(features.dtype).t()


class ProjectionDiscriminator(Discriminator):
    """A discriminator that conditions by projection: ``self.net`` is its unconditional network, an
    ``nn.Sequential`` whose last layer is the head (``nn.Linear(features, 1)``), and
    ``self.projection`` a :class:`Projection` of the head's input when built with classes, else None.

    ``forward(x)`` is ``net(x)``; ``forward(x, labels)`` adds the projection term; ``classify(x)``
    gives the class logits the projection implies (ACGAN's classifier, ``--set loss.acgan=W``).
    vanilla-mlp's and dcgan's discriminators are built this way.
    """

    conditional = True
    net: nn.Sequential
    projection: Projection | None

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """φ(x): what the head sees."""
        h: torch.Tensor = self.net[:-1](x)
        return h

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if self.projection is None or labels is None:
            out: torch.Tensor = self.net(x).view(-1)
            return out
        h = self.features(x)
        return self.net[-1](h).view(-1) + self.projection(h, labels)

    def classify(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits (N, classes): the classifier the projection implies."""
        if self.projection is None:
            raise UsageError("classify() needs a discriminator built for the data's classes.")
        return self.projection.logits(self.features(x))


def _group(n: int, size: int) -> int:
    """The largest divisor of ``n`` that is at most ``size`` (1 at worst), so every group is whole."""
    for g in range(min(size, n), 1, -1):
        if n % g == 0:
            return g
    return 1


class MinibatchStd(nn.Module):
    """Appends one feature per sample: how much its group of ``group_size`` samples varies (ProGAN's
    minibatch standard deviation, Karras et al. 2018) — the per-feature standard deviation over the
    group, averaged over the features. ``(N, F) -> (N, F + 1)``.

    A discriminator that sees one sample at a time cannot tell a generator that draws every mode from
    one that draws a single mode well; with this feature it sees the spread of a few at once. Groups
    are runs of consecutive samples, so in a batch that concatenates the real and the fake samples
    (``d_update = concat``) a group holds only one kind when each half is a multiple of the group
    size; where ``N`` is not a multiple of ``group_size`` the largest divisor of ``N`` below it is
    used (a batch of one sees a spread of 0).
    """

    def __init__(self, group_size: int = 4) -> None:
        super().__init__()
        if group_size < 2:
            raise ValueError(f"MinibatchStd needs groups of at least 2 samples, not {group_size}.")
        self.group_size = group_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[0]
        g = _group(n, self.group_size)
        groups = x.reshape(n // g, g, -1).float()
        spread = (groups.var(dim=1, unbiased=False) + 1e-8).sqrt().mean(dim=1)  # (N / g,)
        feature = spread.repeat_interleave(g).to(x.dtype).view(n, 1)
        return torch.cat([x.flatten(1), feature], dim=1)

    def extra_repr(self) -> str:
        return f"group_size={self.group_size}"
