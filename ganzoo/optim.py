"""The optimisers a run trains with: Adam, SGD or RMSprop, on torch's fused kernels where it has them.

:class:`FusedAdam` is torch's fused Adam with a shorter road to its kernel, for the small
networks of the zoo. ``torch.optim.Adam(fused=True)`` spends most of a step of vanilla-mlp's
discriminator in Python around the one fused kernel call: gathering state per parameter, grouping
tensors by device and dtype, checking options (measured: 85 µs a step, 46 µs of them outside the
kernel and its step counter update; ``python benchmarks/bench_vanilla.py`` shows the effect on a
whole iteration).
:class:`FusedAdam` is an ``Adam`` in every respect: same state, same ``state_dict``, same
numbers. It only calls the same kernel directly once every parameter has its state and a dense
gradient on one device and dtype, and leaves everything else (the first step, closures, a
GradScaler's inf checks, amsgrad, capturable) to ``Adam.step``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch import nn

from ganzoo.errors import UsageError

_KERNEL = getattr(torch, "_fused_adam_", None)
Lists = tuple[
    list[torch.Tensor], list[torch.Tensor], list[torch.Tensor], list[torch.Tensor], list[torch.Tensor]
]


class FusedAdam(torch.optim.Adam):
    def __init__(self, params: Any, **kwargs: Any) -> None:
        super().__init__(params, fused=True, **kwargs)

    def step(self, closure: Callable[[], float] | None = None) -> float | None:  # type: ignore[override]
        scaled = hasattr(self, "grad_scale") or hasattr(self, "found_inf")  # set by a GradScaler
        if closure is not None or _KERNEL is None or scaled:
            return super().step(closure)
        batches = self._direct_batches()
        if batches is None:
            return super().step()
        for group, (params, grads, avgs, sqs, steps) in batches:
            torch._foreach_add_(steps, 1)
            _KERNEL(
                params,
                grads,
                avgs,
                sqs,
                [],
                steps,
                amsgrad=False,
                lr=group["lr"],
                beta1=group["betas"][0],
                beta2=group["betas"][1],
                weight_decay=group["weight_decay"],
                eps=group["eps"],
                maximize=group["maximize"],
            )
        return None

    def _direct_batches(self) -> list[tuple[dict[str, Any], Lists]] | None:
        """Per group: params, grads, exp_avgs, exp_avg_sqs, steps; None when Adam.step must decide."""
        out: list[tuple[dict[str, Any], Lists]] = []
        for group in self.param_groups:
            if (
                group["amsgrad"]
                or group["capturable"]
                or group["differentiable"]
                or group.get("decoupled_weight_decay", False)
                or isinstance(group["lr"], torch.Tensor)
            ):
                return None
            params: list[torch.Tensor] = []
            grads: list[torch.Tensor] = []
            avgs: list[torch.Tensor] = []
            sqs: list[torch.Tensor] = []
            steps: list[torch.Tensor] = []
            for p in group["params"]:
                state = self.state.get(p)
                if p.grad is None or p.grad.is_sparse or not state:
                    return None
                params.append(p)
                grads.append(p.grad)
                avgs.append(state["exp_avg"])
                sqs.append(state["exp_avg_sq"])
                steps.append(state["step"])
            if len({(p.device, p.dtype) for p in params}) > 1:
                return None
            out.append((group, (params, grads, avgs, sqs, steps)))
        return out


def make_optimizer(
    kind: str,
    parameters: Iterator[nn.Parameter],
    lr: float,
    betas: list[float],
    momentum: float,
    nesterov: bool,
) -> torch.optim.Optimizer:
    """Adam, SGD or RMSprop, with the fused kernels where torch has them for the device.

    On the CPU, fused Adam is one vectorised kernel per tensor; foreach falls back to a per-tensor
    loop with more Python around it (measured: 140 µs against 474 µs per step of vanilla-mlp's D).
    """
    params = list(parameters)
    if nesterov and momentum <= 0:
        raise UsageError("Nesterov SGD needs a positive momentum.")

    def build(**speed: bool) -> torch.optim.Optimizer:
        if kind == "adam":
            if speed.get("fused"):  # the same fused Adam, with less Python per step
                return FusedAdam(params, lr=lr, betas=(betas[0], betas[1]))
            return torch.optim.Adam(params, lr=lr, betas=(betas[0], betas[1]), **speed)
        if kind == "sgd":
            return torch.optim.SGD(params, lr=lr, momentum=momentum, nesterov=nesterov, **speed)
        return torch.optim.RMSprop(params, lr=lr, momentum=momentum, **speed)

    if kind in ("adam", "sgd"):
        try:
            return build(fused=True)
        except (RuntimeError, TypeError, ValueError):  # no fused kernel for this device or torch
            pass
    return build(foreach=True)


def lr_factor(decay: str, start: float, step: int, total: int) -> float:
    """What multiplies both learning rates at iteration ``step`` (0-based) of a ``total``-iteration run.

    ``none``: 1 throughout. ``linear`` and ``cosine``: 1 until the fraction ``start`` of the run, then
    falling to 0 at the end (linear: CycleGAN's schedule with ``start`` 0.5; cosine: Loshchilov &
    Hutter 2017 without restarts). The factor depends on the step alone, so a resumed run follows the
    same schedule without any state; a resume that changes the run's length stretches what is left.
    """
    begin = start * total
    if decay == "none" or step < begin:
        return 1.0
    progress = min(1.0, (step - begin) / max(total - begin, 1.0))
    if decay == "linear":
        return 1.0 - progress
    return 0.5 * (1.0 + math.cos(math.pi * progress))
