"""What a run needs to continue exactly where it stopped, and its checkpoint: saved and restored.

A checkpoint is one safetensors file (:mod:`ganzoo.checkpoint`): the networks and optimisers,
every random stream (torch's global one, the noise, the batch indices, Python's and numpy's for
plugins that draw from them), the figures summed since the last log line and the counters. A run
killed and resumed from it ends with the same weights, bit for bit, as one that ran straight on.
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from ganzoo import checkpoint, distributed, rundir
from ganzoo.errors import RunDirError
from ganzoo.record import RunRecord
from ganzoo.rundir import Run
from ganzoo.training.batches import StreamBatches, TensorBatches

#: Under torchrun a rank that a smaller world saved no noise stream for forks its own from the seed.
RANK_SEED_STRIDE = 1_000_003


@dataclass
class Tally:
    """The training figures summed on the device since the last logged step, and skipped updates."""

    sums: torch.Tensor
    n: int = 0
    skipped: int = 0  # updates skipped for a non-finite loss (--on-nan skip), over the whole run


@dataclass
class TrainState:
    """The parts of a run that change as it trains, as one checkpoint holds them."""

    modules: dict[str, nn.Module]  # generator, discriminator and, with --ema, generator_ema
    optimizers: dict[str, torch.optim.Optimizer]  # generator, discriminator
    scaler: torch.amp.GradScaler
    batches: TensorBatches | StreamBatches
    noise: torch.Generator  # this rank's noise stream (alone: the batch indices too)
    data: torch.Generator  # the batch indices, the same on every rank under torchrun
    fixed_z: torch.Tensor  # the noise of the sample grids
    tally: Tally
    step: int = 0
    seconds: float = 0.0  # training time spent before this process took over


def save(
    state: TrainState, run: Run, iterations: int, seconds: float, keep: int, group: Any = distributed.ALONE
) -> None:
    """Write the checkpoint (rank 0), every rank's noise stream and figures included."""
    ranks = []
    if group.shared:  # under torchrun each rank's noise stream and figures are its own
        ranks = distributed.gather_objects((state.noise.get_state(), state.tally.sums.cpu()))
        if not group.main:
            return
    extra = {
        "rng_cpu": torch.get_rng_state(),
        "rng_data": state.data.get_state(),
        **{f"rng_noise.rank{r}": noise for r, (noise, _) in enumerate(ranks)},
        **{f"acc.rank{r}": sums for r, (_, sums) in enumerate(ranks)},
        "fixed_z": state.fixed_z,
        "acc": state.tally.sums,
    }
    batch_tensors, batch_state = state.batches.state()
    extra.update({f"batches.{k}": v for k, v in batch_tensors.items()})
    device = state.fixed_z.device
    if device.type == "cuda":
        extra["rng_cuda"] = torch.cuda.get_rng_state(device)
    meta = {
        "step": state.step,
        "acc_n": state.tally.n,
        "skipped": state.tally.skipped,
        "seconds": seconds,
        "iterations": iterations,
        "batches": batch_state,
        "scaler": state.scaler.state_dict(),
        # The device type the streams' states belong to: a CPU generator's state (Mersenne
        # Twister) and a CUDA one's (Philox) do not load into each other.
        "rng_device": state.noise.device.type,
        **_host_rng_state(extra),
    }
    checkpoint.save_checkpoint(
        run.file(rundir.CHECKPOINT_DIR), state.modules, state.optimizers, extra, meta, keep=keep
    )


def restore(state: TrainState, run: Run, seed: int, group: Any = distributed.ALONE) -> list[str]:
    """Load the checkpoint into ``state``: weights, optimisers, streams, figures and counters.

    A checkpoint whose header reads but whose content does not (JSON cut or bit-flipped inside
    its metadata, a tensor missing or of the wrong size) is one sentence naming the file.
    Returns notes for the user: a run resumed on another kind of device than it was saved on
    continues with its random streams re-seeded from the seed and the step (repeatably, but not
    the draws it would have made where it started).
    """
    path = run.file(rundir.CHECKPOINT)
    try:
        return _restore(state, run, seed, group)
    except (ValueError, KeyError, TypeError, IndexError, RuntimeError) as exc:
        raise RunDirError(
            f"{path} is damaged or does not fit this run, so it cannot be resumed "
            f"({type(exc).__name__}: {str(exc).splitlines()[0][:120] if str(exc) else 'no detail'})."
        ) from exc


def _restore(state: TrainState, run: Run, seed: int, group: Any) -> list[str]:
    extra, meta = checkpoint.load_checkpoint(run.file(rundir.CHECKPOINT_DIR), state.modules, state.optimizers)
    torch.set_rng_state(extra["rng_cpu"])
    _set_host_rng_state(meta, extra)
    step = int(meta["step"])
    saved_on, here = meta.get("rng_device"), state.noise.device.type
    moved = not _fits(state.data, extra["rng_data"], saved_on)
    notes = []
    if moved:  # the streams were saved on another kind of device: fresh ones, from seed and step
        notes.append(
            f"The checkpoint's random streams were saved on {saved_on or 'another device'}, which draws "
            f"differently from {here}: the noise and batch draws continue from fresh streams seeded by "
            f"the run's seed and step {step} (repeatable, not the draws the run would have made on "
            f"{saved_on or 'its own device'})."
        )
        state.data.manual_seed(seed + step)
    else:
        state.data.set_state(extra["rng_data"])
    if meta.get("scaler"):  # an fp32 run's disabled scaler saves an empty state
        state.scaler.load_state_dict(meta["scaler"])
    device = state.fixed_z.device
    if "rng_cuda" in extra and device.type == "cuda":
        torch.cuda.set_rng_state(extra["rng_cuda"], device)
    state.fixed_z = extra["fixed_z"].to(device)
    sums = _like(extra["acc"].to(device), state.tally.sums)
    state.tally = Tally(sums, int(meta["acc_n"]), int(meta.get("skipped", 0)))
    state.step = step
    state.seconds = float(meta["seconds"])
    if group.shared:  # every rank's own noise stream and figures, as rank 0 saved them
        own = extra.get(f"rng_noise.rank{group.rank}")
        if own is not None:
            state.tally.sums = _like(extra[f"acc.rank{group.rank}"].to(device), sums)
        if own is not None and not moved:
            state.noise.set_state(own)
        else:  # saved by a smaller world, or on another device: this rank forks a fresh noise stream
            state.noise.manual_seed(seed + RANK_SEED_STRIDE * group.rank + state.step)
    batches_note = state.batches.restore(
        {k.removeprefix("batches."): v for k, v in extra.items() if k.startswith("batches.")},
        meta.get("batches", {}),
    )
    return [*notes, *([batches_note] if batches_note else [])]


def _fits(stream: torch.Generator, saved: torch.Tensor, saved_on: str | None) -> bool:
    """Whether a saved generator state belongs to ``stream``'s kind of device (a checkpoint from
    before ganzoo recorded the device: by the state's size, which differs between the two)."""
    if saved_on is not None:
        return saved_on == stream.device.type
    return saved.numel() == stream.get_state().numel()


def _like(saved: torch.Tensor, live: torch.Tensor) -> torch.Tensor:
    """Saved figure sums in the live run's layout: a checkpoint of ganzoo 0.1 lacks the penalty
    figures logged since (they come last), which start again from zero."""
    if saved.shape == live.shape:
        return saved
    out = torch.zeros_like(live)
    n = min(saved.numel(), live.numel())
    out[:n] = saved[:n]
    return out


def write_final_weights(state: TrainState, run: Run, record: RunRecord) -> None:
    """The final weights, each file carrying the run's record so that it rebuilds itself."""
    doc = record.to_json()
    checkpoint.save_weights(run.file(rundir.GENERATOR), state.modules["generator"], "generator", doc)
    if "generator_ema" in state.modules:
        checkpoint.save_weights(
            run.file(rundir.GENERATOR_EMA), state.modules["generator_ema"], "generator", doc
        )
    checkpoint.save_weights(
        run.file(rundir.DISCRIMINATOR), state.modules["discriminator"], "discriminator", doc
    )


def _host_rng_state(extra: dict[str, torch.Tensor]) -> dict[str, Any]:
    """Python's and (when loaded) numpy's global RNG states, for plugins that draw from them.

    ganzoo itself draws only from torch; a plugin's augmentation or loss may not, and a resumed
    run must replay its draws too. Python's state goes into the JSON, numpy's key into a tensor.
    """
    version, internal, gauss = random.getstate()
    out: dict[str, Any] = {"rng_python": [version, list(internal), gauss]}
    np = sys.modules.get("numpy")  # not imported for this: if no one loaded numpy, no one drew from it
    if np is not None:
        kind, key, pos, has_gauss, cached = np.random.get_state()
        extra["rng_numpy"] = torch.tensor(key.astype("int64"))
        out["rng_numpy"] = [kind, int(pos), int(has_gauss), float(cached)]
    return out


def _set_host_rng_state(meta: dict[str, Any], extra: dict[str, torch.Tensor]) -> None:
    if "rng_python" in meta:
        version, internal, gauss = meta["rng_python"]
        random.setstate((version, tuple(internal), gauss))
    if "rng_numpy" in meta and "rng_numpy" in extra:
        import numpy as np

        kind, pos, has_gauss, cached = meta["rng_numpy"]
        key = np.array(extra["rng_numpy"].tolist(), dtype=np.uint32)
        np.random.set_state((kind, key, pos, has_gauss, cached))
