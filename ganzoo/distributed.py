"""Data-parallel training under ``torchrun``: every rank trains on its own batches, gradients are averaged.

``torchrun --nproc-per-node N -m ganzoo train ...`` sets ``WORLD_SIZE``, ``RANK`` and the rendezvous
variables; ganzoo then joins a process group (NCCL on CUDA, gloo on the CPU), averages G's and D's
gradients after every backward pass with one flat all-reduce per update, and lets only rank 0
write the run directory. We average gradients ourselves rather than wrap the networks in
``DistributedDataParallel``: D is frozen during G's step and its forward is reused, which DDP's
reducer cannot follow without ``find_unused_parameters``, and the saved weights keep their names.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from ganzoo.errors import UsageError


@dataclass(frozen=True)
class Group:
    rank: int
    world: int

    @property
    def main(self) -> bool:
        return self.rank == 0


def setup(device: torch.device) -> Group | None:
    """Join the process group ``torchrun`` describes, or None when running alone."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return None
    if not dist.is_available():
        raise UsageError("This torch was built without torch.distributed; run ganzoo without torchrun.")
    if not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend)
    if device.type == "cuda":
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    return Group(dist.get_rank(), dist.get_world_size())


def average_gradients(params: list[torch.nn.Parameter], world: int) -> None:
    """Replace each gradient by its mean over the ranks: one all-reduce of one flat buffer."""
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return
    flat = torch._utils._flatten_dense_tensors(grads)
    dist.all_reduce(flat)
    flat.div_(world)
    for g, synced in zip(grads, torch._utils._unflatten_dense_tensors(flat, grads), strict=True):
        g.copy_(synced)


def any_rank(flag: bool, device: torch.device) -> bool:
    """True on every rank when ``flag`` is true on any: so all ranks stop at the same step."""
    t = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


def broadcast_module(module: torch.nn.Module) -> None:
    """Rank 0's weights and buffers on every rank (the same seed gives them already; this makes sure)."""
    for t in [*module.parameters(), *module.buffers()]:
        dist.broadcast(t.data, 0)


def finish() -> None:
    """Leave the group together: a rank that destroys it while another still uses it aborts gloo."""
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
