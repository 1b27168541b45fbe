"""Data-parallel training under ``torchrun``: every rank trains on its share of each batch.

``torchrun --nproc-per-node N -m ganzoo train ...`` sets ``WORLD_SIZE``, ``RANK`` and the rendezvous
variables; ganzoo then joins a process group (NCCL on CUDA, gloo on the CPU), wraps G and D in
``DistributedDataParallel`` (gradients averaged in buckets while backward still runs), and lets
only rank 0 write the run directory. G's step runs D's plain module with D's weights frozen, so
D's DDP reducer only ever sees D's own updates and needs no ``find_unused_parameters``; the saved
weights are the plain modules', with their usual names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

import torch
import torch.distributed as dist

from ganzoo import env
from ganzoo.errors import UsageError

T = TypeVar("T")

#: How long a rank waits in a collective for the others. While rank 0 evaluates (--eval-every), samples
#: or writes a checkpoint, the other ranks wait in the next step's gradient all-reduce; NCCL's default
#: of 10 minutes would end a run whose evaluation (Inception features on a slow machine) takes longer.
TIMEOUT = timedelta(hours=1)


@dataclass(frozen=True)
class Group:
    """This process's place in the run: rank ``rank`` of ``world`` processes (alone: 0 of 1)."""

    rank: int = 0
    world: int = 1

    @property
    def main(self) -> bool:
        """Whether this process writes the run directory (rank 0)."""
        return self.rank == 0

    @property
    def shared(self) -> bool:
        """Whether other processes train beside this one (under torchrun): collectives are due."""
        return self.world > 1


#: A run trained by one process.
ALONE = Group()


def setup(device: torch.device) -> Group:
    """Join the process group ``torchrun`` describes; :data:`ALONE` when running alone.

    On CUDA each rank takes the GPU numbered by its ``LOCAL_RANK`` (see :func:`rank_device`).
    """
    world = env.world_size()
    if world <= 1:
        return ALONE
    if not dist.is_available():
        raise UsageError("This torch was built without torch.distributed; run ganzoo without torchrun.")
    if not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend, timeout=TIMEOUT)
    if device.type == "cuda":
        torch.cuda.set_device(rank_device(device))
    return Group(dist.get_rank(), dist.get_world_size())


def rank_device(device: torch.device) -> torch.device:
    """This rank's device: ``cuda:LOCAL_RANK`` on CUDA, whatever index ``--device`` named."""
    if device.type != "cuda":
        return device
    return torch.device("cuda", int(env.LOCAL_RANK.get() or 0))


def wrap(module: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """``DistributedDataParallel`` around one network: rank 0's weights now, gradients averaged in backward.

    A network without trainable parameters is returned as it is (DDP refuses those).
    """
    from torch.nn.parallel import DistributedDataParallel

    if not any(p.requires_grad for p in module.parameters()):
        return module
    # broadcast_buffers=False: every rank keeps its own BatchNorm running statistics (rank 0's are
    # the ones saved). With it on, DDP copies rank 0's buffers in place at every forward, and D's
    # step runs D forward twice (real, fake) before one backward: on CUDA that in-place copy
    # invalidates a tensor the first forward saved for backward (pytorch#175024).
    return DistributedDataParallel(
        module, device_ids=[device.index] if device.type == "cuda" else None, broadcast_buffers=False
    )


def gather_objects(obj: T) -> list[T]:
    """Every rank's ``obj``, in rank order, on every rank."""
    out: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(out, obj)
    return out


def mean(t: torch.Tensor) -> torch.Tensor:
    """The element-wise mean of ``t`` over the ranks (a NaN on any rank makes it NaN on all)."""
    t = t.clone()
    dist.all_reduce(t)
    return t / dist.get_world_size()


def any_rank(flag: bool, device: torch.device) -> bool:
    """True on every rank when ``flag`` is true on any: so all ranks stop at the same step."""
    t = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


def finish() -> None:
    """Leave the group together: a rank that destroys it while another still uses it aborts gloo."""
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
