"""The names of the figures ganzoo logs and measures, and how each is labelled for people.

A *figure* is one named number: a training figure in metrics.jsonl (``d_loss``), an eval figure
from ``ganzoo eval`` (``fd``). The progress bar, ``ganzoo show``, ``ganzoo eval``'s table, the loss
curves and TensorBoard all take their labels from here. Light: no torch.
"""

from __future__ import annotations

#: The training figures summed on the device between two logged steps, in this order, for a
#: per-batch loss; then one figure per penalty term (gp, r1, r2, ...).
PER_BATCH_FIGURES = ("d_loss_real", "d_loss_fake", "g_loss", "d_real", "d_fake", "d_acc_real", "d_acc_fake")
#: The same for a pairwise (relativistic) loss, whose D objective does not split into real and fake
#: parts and whose logits mean nothing alone (only their differences are trained, so σ(D(x)) drifts to
#: 0 or 1 whoever wins): how often, and how surely, D rates each real sample above its fake partner.
PAIRWISE_FIGURES = ("d_loss", "g_loss", "d_pair", "d_pair_acc")
#: The figures whose not being finite stops a run.
LOSSES = ("d_loss_real", "d_loss_fake", "d_loss", "g_loss")

#: Training figures → labels.
TRAINING = {
    "d_loss": "D loss",
    "g_loss": "G loss",
    "d_real": "D(x)",
    "d_fake": "D(G(z))",
    "d_acc": "D acc",
    "d_loss_real": "D loss on real",
    "d_loss_fake": "D loss on fake",
    "d_acc_real": "D acc on real",
    "d_acc_fake": "D acc on fake",
    "d_pair": "D(x) > D(G(z))",
    "d_pair_acc": "D acc on pairs",
    "gp": "gradient penalty",
    "r1": "R1 penalty",
    "r2": "R2 penalty",
    "penalty": "D penalty",
}

#: The training figures a progress line and ``ganzoo show`` print, in this order.
HEADLINE = ("d_loss", "g_loss", "d_real", "d_fake", "d_acc", "d_pair", "d_pair_acc")

#: Eval figures → labels (a dataset adds its own through ``Dataset.figure_labels``).
EVAL = {
    "fd": "Fréchet distance",
    "kid": "KID",
    "kid_std": "KID std over subsets",
    "precision": "precision",
    "recall": "recall",
    "classifier_score": "classifier score (IS analogue)",
    "inception_score": "Inception score",
    "classes_covered": "classes covered (share ≥ 2%)",
    "class_kl": "KL(class histogram ‖ uniform)",
    "mmd": "MMD² to real curves",
    "cond_accuracy": "conditional accuracy (classifier names the class asked for)",
    "class_fd_mean": "mean per-class Fréchet distance",
    "class_fd": "per-class Fréchet distance",
}

#: Short labels of the eval figures a progress note prints, in this order.
EVAL_HEADLINE = {
    "fd": "FD",
    "kid": "KID",
    "classes_covered": "classes",
    "precision": "precision",
    "recall": "recall",
    "mmd": "MMD",
    "cond_accuracy": "cond acc",
    "class_fd_mean": "class FD",
}


def label(name: str) -> str:
    """The label of a training or eval figure; an unknown one is shown by its name."""
    return TRAINING.get(name) or EVAL.get(name) or name


def line(values: dict[str, float]) -> str:
    """The headline training figures as one line: ``D loss 0.693  G loss 0.702 ...``."""
    return "  ".join(f"{TRAINING[k]} {values[k]:.3f}" for k in HEADLINE if k in values)


def eval_line(figures: dict[str, object], extra: dict[str, str] | None = None) -> str:
    """The headline eval figures as one line: ``FD 412.3  KID 0.351  classes 9 ...``.

    ``extra`` labels a dataset's own figures (``Dataset.figure_labels``), printed after them.
    """
    names = {**EVAL_HEADLINE, **(extra or {})}
    return "  ".join(f"{short} {_fmt(figures[key])}" for key, short in names.items() if key in figures)


def _fmt(v: object) -> str:
    return str(v) if isinstance(v, int) else f"{v:.4g}"
