"""What a classifier says of generated samples: the Inception-score analogue, the class histogram,
classes covered and the KL divergence from uniform.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ganzoo.errors import MetricsError
from ganzoo.metrics.checks import check_features, check_logits, check_shares


def classifier_score(logits: Tensor) -> float:
    """The Inception Score (Salimans et al., 2016) of logits (N, K): exp(E_x KL(p(y|x) || p(y))).

    High when each sample is confidently one class (sharp p(y|x)) and the classes are used evenly (flat
    p(y)); it ranges from 1 to K. Computed from logits through ``log_softmax`` in float64, so confident logits
    give exact zeros instead of log(0). One score over all samples: the original's mean over 10 splits is left
    to the caller, since splitting mostly adds a small-sample bias.
    """
    x = check_logits(logits).to(torch.float64)
    log_p = torch.log_softmax(x, dim=1)
    log_marginal = torch.logsumexp(log_p, dim=0) - math.log(x.shape[0])
    kl = (log_p.exp() * (log_p - log_marginal)).sum(dim=1)
    return math.exp(float(kl.mean()))


def class_histogram(logits_or_labels: Tensor, num_classes: int) -> Tensor:
    """The share of samples in each of ``num_classes`` classes (float64, summing to 1).

    Takes logits or probabilities (N, K), reduced to their argmax, or integer labels (N,).
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise MetricsError(f"num_classes must be a whole number of at least 1, not {num_classes!r}.")
    x = logits_or_labels
    if not isinstance(x, Tensor):
        raise MetricsError(f"The logits or labels must be a torch tensor, not {type(x).__name__}.")
    if x.ndim == 2:
        x = check_features(x, "logits", 1, "a class histogram")
        if x.shape[1] != num_classes:
            raise MetricsError(f"The logits have {x.shape[1]} classes, but num_classes is {num_classes}.")
        labels = x.argmax(dim=1)
    elif x.ndim == 1:
        if x.is_complex():
            raise MetricsError(f"The labels must be whole numbers, not {x.dtype}.")
        if x.numel() == 0:
            raise MetricsError("A class histogram needs at least 1 label, not none.")
        if x.is_floating_point() and not bool((torch.isfinite(x) & (x == x.round())).all()):
            raise MetricsError("The labels must be whole numbers; pass 2-D logits to take their argmax.")
        labels = x.to(torch.long)
        outside = int(((labels < 0) | (labels >= num_classes)).sum())
        if outside:
            raise MetricsError(f"{outside} of {labels.numel()} labels lie outside 0..{num_classes - 1}.")
    else:
        raise MetricsError(f"Pass logits (N, K) or labels (N,), not a tensor of shape {tuple(x.shape)}.")
    counts = torch.bincount(labels, minlength=num_classes).to(torch.float64)
    return counts / labels.numel()


class RunningClasses:
    """:func:`classifier_score` and :func:`class_histogram` over logits that arrive in batches.

    The score is exp(E_x Σ_y p log p(y|x) − Σ_y p̄ log p̄), so it needs only the running sum of
    Σ p log p and of p(y|x): no logits are kept, however many samples stream through.
    """

    def __init__(self, num_classes: int) -> None:
        self.k = num_classes
        self.n = 0
        self.negentropy = 0.0
        self.marginal = torch.zeros(num_classes, dtype=torch.float64)
        self.counts = torch.zeros(num_classes, dtype=torch.float64)

    def update(self, logits: Tensor) -> None:
        log_p = torch.log_softmax(check_logits(logits).to(torch.float64), dim=1)
        p = log_p.exp()
        self.negentropy += float((p * log_p).sum())
        self.marginal += p.sum(dim=0).cpu()
        self.counts += torch.bincount(log_p.argmax(dim=1), minlength=self.k).to(torch.float64).cpu()
        self.n += log_p.shape[0]

    def score(self) -> float:
        marginal = self.marginal / self.n
        return math.exp(self.negentropy / self.n - float((marginal * marginal.clamp_min(1e-300).log()).sum()))

    def shares(self) -> Tensor:
        return self.counts / self.n


def classes_covered(shares: Tensor, threshold: float = 0.02) -> int:
    """How many classes hold at least ``threshold`` of the samples (a share equal to it counts).

    A mode-coverage count in the spirit of the "number of modes" of Metz et al. (2017) and Srivastava et al.
    (2017): the threshold (2% by default, a fifth of a fair share among 10 classes) keeps a class that a
    collapsed generator hits by accident from counting.
    """
    p = check_shares(shares)
    if not (0 < threshold <= 1):
        raise MetricsError(f"The coverage threshold must lie in (0, 1], not {threshold!r}.")
    return int((p >= threshold).sum())


def kl_from_uniform(shares: Tensor) -> float:
    """KL(p || uniform) = Σ p·log(p·K) in nats, with 0·log 0 = 0: 0 for balanced classes, log K for one.

    The reverse-KL mode-balance score of Srivastava et al. (2017, VEEGAN) and Lin et al. (2018, PacGAN).
    """
    p = check_shares(shares)
    return max(float(torch.xlogy(p, p * p.numel()).sum()), 0.0)
