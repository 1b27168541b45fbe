"""What a run trains with, decided once: the frozen description of a run (:class:`Setup`, values
only, checked by ``launch.build`` before it is made) and the trainer's working parts built from it
(:func:`assemble`: the engine, where real batches come from, the optimisers and everything a
checkpoint holds, one iteration). The trainer (``training/loop``) only runs them.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import torch

from ganzoo import distributed
from ganzoo.build import ganzoo_loss_params
from ganzoo.components import DataSpec, Discriminator, Generator, Loss
from ganzoo.errors import TrainingError, UsageError
from ganzoo.optim import make_optimizer
from ganzoo.sampling import grid_labels, noise, rescale
from ganzoo.settings import RunConfig, TrainSettings, total_iterations
from ganzoo.training import state as checkpoints
from ganzoo.training.augment import augmenter
from ganzoo.training.batches import StreamBatches, TensorBatches
from ganzoo.training.engine import Engine
from ganzoo.training.regularize import Regularizers
from ganzoo.training.state import Tally, TrainState
from ganzoo.training.step import Iteration, penalty_names


@dataclass(frozen=True)
class Setup:
    """One run as values, settled before it trains: its resolved configuration (precision and
    determinism filled in), the data it declares, the device, the seed it trains from (the record's:
    chosen at random when the user gave none, rank 0's under torchrun) and the process group (the
    group of one when alone). The trainer branches on none of how they were arrived at."""

    config: RunConfig
    spec: DataSpec
    device: torch.device
    seed: int
    group: distributed.Group = distributed.ALONE

    @property
    def settings(self) -> TrainSettings:
        return self.config.train

    @property
    def class_count(self) -> int:
        """How many classes the generator is conditioned on: 0 for an unconditional run."""
        return len(self.spec.classes) if self.settings.conditional else 0


@dataclass
class Parts:
    """The trainer's working parts for one :class:`Setup` (see :func:`assemble`)."""

    engine: Engine
    batches: TensorBatches | StreamBatches
    state: TrainState
    iteration: Iteration
    #: The steps the run trains (--epochs are passes of the whole job: fewer steps under torchrun).
    iterations: int
    #: The generator's output range; real batches are held in it.
    out_range: tuple[float, float]
    #: The names of the discriminator's layers freeze_d keeps fixed.
    frozen: list[str]
    #: The sample grids' labels, one class a row (None in an unconditional run).
    fixed_labels: torch.Tensor | None
    #: A few real sequences, in the data's range, drawn beside generated ones (None for images).
    real_preview: torch.Tensor | None


def assemble(
    setup: Setup,
    generator: Generator,
    discriminator: Discriminator,
    loss: Loss,
    real: torch.Tensor | torch.utils.data.Dataset[torch.Tensor],
    labels: torch.Tensor | None = None,
) -> Parts:
    """The engine (device, precision, DDP), the real batches on the device, the optimisers, the
    state a checkpoint holds and one iteration, for ``setup``. What cannot train (a data shape the
    dataset did not declare, --sync-bn on the CPU or beside a gradient penalty, more frozen layers
    than D has) is refused here, before the run directory is made."""
    s, spec, device, group, seed = setup.settings, setup.spec, setup.device, setup.group, setup.seed
    ours = ganzoo_loss_params(type(loss), setup.config.params.get("loss", {}))
    regularizers = Regularizers.from_params(ours)
    class_count = setup.class_count
    loss_penalties = penalty_names(loss, discriminator, spec.shape, class_count)
    frozen = freeze_layers(discriminator, s.freeze_d)  # FreezeD: before DDP and the optimiser
    engine = Engine(
        generator, discriminator, s, spec, device, group, (*loss_penalties, *regularizers.names())
    )
    out_range = type(generator).output_range()
    batches, noise_rng, data_rng = _batches(setup, engine, out_range, real, labels)
    real_preview = None
    if spec.modality == "sequence":
        preview = batches.next(min(8, batches.n)).detach().float()
        real_preview = rescale(preview, out_range, spec.value_range)
    G, D = engine.G, engine.D
    modules: dict[str, torch.nn.Module] = {"generator": G, "discriminator": D}
    if s.ema is not None:  # the average samples and is evaluated; G itself keeps training
        modules["generator_ema"] = copy.deepcopy(G).requires_grad_(False)
    fixed = torch.Generator(device=device)
    fixed.manual_seed(seed + 1)
    state = TrainState(
        modules=modules,
        optimizers={
            "generator": make_optimizer(
                s.optimizer_g, G.parameters(), s.lr_g, s.betas_g, s.momentum_g, s.nesterov_g
            ),
            "discriminator": make_optimizer(
                s.optimizer_d,
                (p for p in D.parameters() if p.requires_grad),  # not the layers freeze_d keeps
                s.lr_d,
                s.betas_d,
                s.momentum_d,
                s.nesterov_d,
            ),
        },
        scaler=engine.scaler,
        batches=batches,
        noise=noise_rng,
        data=data_rng,
        fixed_z=noise(s.prior, s.samples, s.latent_dim, fixed, device),
        tally=Tally(torch.zeros(0, device=device)),
    )
    augment = augmenter(s.augment, noise_rng, out_range) if spec.modality == "image" else None
    iteration = Iteration(
        engine,
        loss,
        state,
        s,
        s.ema,
        regularizers,
        augment,
        class_count,
        float(ours.get("acgan", 0.0)),
        loss_penalties,
    )
    state.tally.sums = torch.zeros(len(iteration.names), device=device)
    return Parts(
        engine=engine,
        batches=batches,
        state=state,
        iteration=iteration,
        iterations=total_iterations(s, batches.n, group.world),
        out_range=out_range,
        frozen=frozen,
        fixed_labels=grid_labels(s.samples, class_count, device) if class_count else None,
        real_preview=real_preview,
    )


def _batches(
    setup: Setup,
    engine: Engine,
    out_range: tuple[float, float],
    real: Any,
    labels: torch.Tensor | None,
) -> tuple[TensorBatches | StreamBatches, torch.Generator, torch.Generator]:
    """Where real batches come from, this rank's noise stream and the batch-index stream.

    Alone, noise and batches share one stream. Under torchrun every rank draws the same global
    batch indices from a shared stream and takes its own share of them (disjoint batches), while
    its noise stream is its own. The fixed sample noise is the same everywhere.
    """
    group, seed, device, spec, s = setup.group, setup.seed, setup.device, setup.spec, setup.settings
    rank, world = group.rank, group.world
    noise_rng = torch.Generator(device=device)
    noise_rng.manual_seed(seed + checkpoints.RANK_SEED_STRIDE * rank)
    data_rng = noise_rng
    if group.shared:
        data_rng = torch.Generator(device=device)
        data_rng.manual_seed(seed)
    if not isinstance(real, torch.Tensor):  # a map-style dataset too large to hold: streamed
        stream = StreamBatches(
            real,
            spec.value_range,
            out_range,
            seed + rank,
            device,
            s.batch_size,
            engine.channels_last,
            labels,
        )
        return stream, noise_rng, data_rng
    if real.ndim < 2 or tuple(real.shape[1:]) != spec.shape:
        raise TrainingError(
            f"The dataset '{setup.config.dataset}' returned samples of shape "
            f"{tuple(real.shape[1:])}, not the {spec.shape} it declares."
        )
    # The data lives on the device once, already in the generator's output range.
    data = rescale(real.to(torch.float32), spec.value_range, out_range).to(device)
    data = engine.data_layout(data)
    batches = TensorBatches(data, s.data_order, data_rng, rank, world, labels)
    return batches, noise_rng, data_rng


def freeze_layers(net: torch.nn.Module, k: int) -> list[str]:
    """FreezeD (Mo et al. 2020, "Freeze the Discriminator"): the first ``k`` layers of ``net`` that hold
    weights of their own (convolutions, linear layers, norms...), in the order the network defines
    them, stop learning. Returns their names; more layers than ``net`` has is one sentence."""
    if k <= 0:
        return []
    layers = [(name, m) for name, m in net.named_modules() if any(True for _ in m.parameters(recurse=False))]
    if k > len(layers):
        raise UsageError(
            f"freeze_d={k}, but the discriminator has {len(layers)} layers with weights; give at most "
            f"{len(layers)} ({', '.join(n for n, _ in layers[:6])}{'...' if len(layers) > 6 else ''})."
        )
    for _, module in layers[:k]:
        for p in module.parameters(recurse=False):
            p.requires_grad_(False)
    return [name for name, _ in layers[:k]]
