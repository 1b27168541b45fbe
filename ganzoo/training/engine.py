"""Where and how the networks run: the device, autocast, gradient scaling, channels-last, DDP and
torch.compile, behind one forward call and one update call.

Branch-free in the step, the way nanoGPT's train.py is: the forward context is ``nullcontext()``
for fp32 and ``torch.autocast`` otherwise, and the GradScaler is always there but enabled only for
fp16 (disabled, it passes the loss and the optimiser step straight through).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any, cast

import torch
from torch import nn

from ganzoo import distributed
from ganzoo.components import DataSpec, Discriminator, Generator
from ganzoo.errors import UsageError
from ganzoo.settings import TrainSettings

#: Where memory_format=auto turns channels-last on for convolutional networks: CUDA, and the CPU,
#: where oneDNN's NHWC kernels are 1.5x faster for sources 000 and 003 (their one-channel output
#: convolutions, above all) and as fast for the DCGANs (docs/performance.md).
CHANNELS_LAST_DEVICES = ("cuda", "cpu")

#: A network as the step calls it: ``net(x)``, or ``net(x, labels)`` in a conditional run.
Net = Callable[..., torch.Tensor]


def native_bf16(device: torch.device) -> bool:
    """Whether ``device`` computes bfloat16 in hardware rather than emulating it.

    CUDA: compute capability 8.0 or newer (Ampere on). CPU: x86 with AVX-512 BF16 or AMX, or Arm
    with the BF16 extension, as /proc/cpuinfo lists them (Linux; elsewhere: no). MPS: no.
    """
    if device.type == "cuda":
        try:
            return bool(torch.cuda.is_bf16_supported(including_emulation=False))
        except TypeError:  # torch before 2.3 has no emulation to leave out
            return bool(torch.cuda.is_bf16_supported())
    if device.type != "cpu":
        return False
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith(("flags", "Features")):
                    return bool({"avx512_bf16", "amx_bf16", "bf16"} & set(line.split(":", 1)[1].split()))
    except OSError:
        pass
    return False


def resolve_precision(precision: str, device: torch.device) -> str:
    """``auto`` → bf16 where the device computes it natively, else fp32; any other value as given."""
    if precision != "auto":
        return precision
    return "bf16" if native_bf16(device) else "fp32"


def amp_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for ``--precision``, or None for fp32; refuses what the device cannot do."""
    precision = resolve_precision(precision, device)
    if precision == "fp32":
        return None
    if precision == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise UsageError(
            f"--precision bf16 needs a GPU with bfloat16 support (compute capability 8.0 or newer); "
            f"{torch.cuda.get_device_name(device)} has none: use --precision fp16."
        )
    return torch.bfloat16 if precision == "bf16" else torch.float16


def use_channels_last(memory_format: str, spec: DataSpec, device: torch.device, *nets: nn.Module) -> bool:
    """Whether image batches and conv weights go channels-last (NHWC).

    ``auto`` picks it for convolutional networks on CUDA, where cuDNN's fastest kernels (and the
    tensor cores under bf16/fp16) want NHWC, and on the CPU, where it measured faster or the same.
    """
    if memory_format == "contiguous":
        return False
    if spec.modality != "image" or len(spec.shape) != 3:
        if memory_format == "channels_last":
            raise UsageError("memory_format=channels_last applies to images; this dataset holds sequences.")
        return False
    if memory_format == "channels_last":
        return True
    convs = any(isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)) for net in nets for m in net.modules())
    return convs and device.type in CHANNELS_LAST_DEVICES


class Engine:
    """The two networks on their device, and how a forward pass and an update run.

    ``G`` and ``D`` stay the plain modules that are saved, averaged and sampled from. What trains
    are ``g_net`` and ``d_net``: DistributedDataParallel wrappers under torchrun (they start from
    rank 0's weights and average gradients during backward), compiled with ``--compile``.
    ``d_frozen`` is D for G's step (frozen, outside DDP: no gradients of D's to reduce);
    ``d_penalty`` is D for a loss's penalty, never compiled (it differentiates D twice, which
    torch.compile does not support).
    """

    def __init__(
        self,
        generator: Generator,
        discriminator: Discriminator,
        s: TrainSettings,
        spec: DataSpec,
        device: torch.device,
        group: distributed.Group = distributed.ALONE,
        penalties: tuple[str, ...] = (),
    ) -> None:
        """``penalties``: the names of the gradient penalties D's step differentiates twice (R1, R2,
        a loss's own), which SyncBatchNorm cannot carry."""
        self.device = device
        self.channels_last = use_channels_last(s.memory_format, spec, device, generator, discriminator)
        if s.sync_bn and group.shared:
            d_norms = any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in discriminator.modules())
            if penalties and d_norms:  # pytorch#61222: SyncBatchNorm has no double backward
                raise UsageError(
                    f"--sync-bn cannot train with a gradient penalty ({', '.join(penalties)}): the "
                    "discriminator's BatchNorm would become SyncBatchNorm, which torch cannot differentiate "
                    "twice; drop --sync-bn, or the penalty (--set loss.r1=0, loss.r2=0)."
                )
            if device.type != "cuda":
                raise UsageError(
                    "--sync-bn needs CUDA devices: torch's SyncBatchNorm does not run on the CPU."
                )
            generator = nn.SyncBatchNorm.convert_sync_batchnorm(generator)
            discriminator = nn.SyncBatchNorm.convert_sync_batchnorm(discriminator)
        self.G: Generator = generator.to(device)
        self.D: Discriminator = discriminator.to(device)
        if self.channels_last:
            self.G = self.G.to(memory_format=torch.channels_last)
            self.D = self.D.to(memory_format=torch.channels_last)
        dtype = amp_dtype(s.precision, device)
        self.autocast: AbstractContextManager[Any] = (
            nullcontext() if dtype is None else torch.autocast(device.type, dtype=dtype)
        )
        # fp16's narrow range needs the losses scaled up (and the gradients back down) to survive.
        self.scaler = torch.amp.GradScaler(device.type, enabled=s.precision == "fp16")
        self.g_net: Net = self.G
        self.d_net: Net = self.D
        if group.shared:
            self.g_net, self.d_net = distributed.wrap(self.G, device), distributed.wrap(self.D, device)
        self.d_frozen: Net = self.D
        self.d_penalty = cast(Discriminator, self.d_net)
        self.compiling = s.compile  # until the first step has built the kernels
        if s.compile:
            self.g_net, self.d_net = torch.compile(self.g_net), torch.compile(self.d_net)
            self.d_frozen = torch.compile(self.D) if group.shared else self.d_net
        self.d_params = [p for p in self.D.parameters() if p.requires_grad]  # not the frozen layers

    def forward(self, net: Net, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """One network's forward pass (on ``labels`` too in a conditional run), under autocast with
        ``--precision bf16|fp16``."""
        with self.autocast:
            return net(x) if labels is None else net(x, labels)

    def update(self, opt: torch.optim.Optimizer, loss: torch.Tensor) -> None:
        """Backward and one optimiser step (under torchrun, DDP averages the gradients in backward)."""
        self.scaler.scale(loss).backward()
        self.scaler.step(opt)  # skipped when fp16's scaled gradients overflowed
        self.scaler.update()  # after each step: D may step twice per iteration

    @contextmanager
    def d_held(self) -> Iterator[None]:
        """D's weights frozen (no weight gradients) for G's step, then trainable again."""
        for p in self.d_params:
            p.requires_grad_(False)
        try:
            yield
        finally:
            for p in self.d_params:
                p.requires_grad_(True)

    def data_layout(self, x: torch.Tensor) -> torch.Tensor:
        """Real data in the layout the networks run in."""
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last else x
