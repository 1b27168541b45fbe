"""The training loop: iterations on data held as one tensor, with no per-step host sync; the events
its reporters act on; signals; divergence; and, under torchrun, the ranks' agreement on stopping."""

from __future__ import annotations

import copy
import math
import signal
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import torch

from ganzoo import distributed, rundir
from ganzoo.build import ganzoo_loss_params
from ganzoo.components import DataSpec, Discriminator, Generator, Loss
from ganzoo.errors import Interrupted, TrainingError, UsageError
from ganzoo.figures import LOSSES
from ganzoo.optim import lr_factor, make_optimizer
from ganzoo.record import RunResult
from ganzoo.rundir import Run
from ganzoo.sampling import eval_mode, grid_labels, noise, ready, rescale
from ganzoo.settings import RunConfig, total_iterations
from ganzoo.training import state as checkpoints
from ganzoo.training.augment import augmenter
from ganzoo.training.batches import StreamBatches, TensorBatches
from ganzoo.training.engine import Engine
from ganzoo.training.regularize import Regularizers
from ganzoo.training.reporters import Reporter, Reporters
from ganzoo.training.state import Tally, TrainState
from ganzoo.training.step import SKIP_LIMIT, Iteration, penalty_names

if TYPE_CHECKING:
    from ganzoo.evaluate import Evaluator

#: Under torchrun the ranks agree whether to stop (a signal) every this many steps.
STOP_EVERY = 10


class Trainer:
    """Trains one generator against one discriminator; its reporters write the run directory."""

    def __init__(
        self,
        config: RunConfig,
        generator: Generator,
        discriminator: Discriminator,
        loss: Loss,
        spec: DataSpec,
        real: torch.Tensor | torch.utils.data.Dataset[torch.Tensor],
        device: torch.device,
        run: Run,
        seed: int,
        reporters: Sequence[Reporter] = (),
        evaluator: Evaluator | None = None,
        group: distributed.Group = distributed.ALONE,
        labels: torch.Tensor | None = None,
    ) -> None:
        self.config, self.settings = config, config.train
        s = self.settings
        self.run, self.spec, self.seed, self.group, self.evaluator = run, spec, seed, group, evaluator
        self.main = group.main  # only rank 0 writes the run directory
        ours = ganzoo_loss_params(type(loss), config.params.get("loss", {}))  # not the loss's own
        regularizers = Regularizers.from_params(ours)
        # A conditional run: how many classes the data's labels count (0: an unconditional run).
        self.class_count = len(spec.classes) if s.conditional else 0
        loss_penalties = penalty_names(loss, discriminator, spec.shape, self.class_count)
        penalties = (*loss_penalties, *regularizers.names())
        self.frozen = freeze_layers(discriminator, s.freeze_d)  # FreezeD: before DDP and the optimiser
        self.engine = Engine(generator, discriminator, s, spec, device, group, penalties)
        self.out_range = type(generator).output_range()
        self.batches, noise_rng, data_rng = self._batches(real, device, labels)
        self.n = self.batches.n
        # A few real samples (in the data's range) to draw beside generated sequences.
        self.real_preview = None
        if spec.modality == "sequence":
            preview = self.batches.next(min(8, self.n)).detach().float()
            self.real_preview = rescale(preview, self.out_range, spec.value_range)
        self.iterations = total_iterations(s, self.n, group.world)
        G, D = self.engine.G, self.engine.D
        modules: dict[str, torch.nn.Module] = {"generator": G, "discriminator": D}
        if s.ema is not None:  # the average samples and is evaluated; G itself keeps training
            modules["generator_ema"] = copy.deepcopy(G).requires_grad_(False)
        fixed = torch.Generator(device=device)
        fixed.manual_seed(seed + 1)
        self.state = TrainState(
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
            scaler=self.engine.scaler,
            batches=self.batches,
            noise=noise_rng,
            data=data_rng,
            fixed_z=noise(s.prior, s.samples, s.latent_dim, fixed, device),
            tally=Tally(torch.zeros(0, device=device)),
        )
        # The grids' labels: row by row, one class a row (grid_labels), the same all run long.
        self.fixed_labels = grid_labels(s.samples, self.class_count, device) if self.class_count else None
        augment = augmenter(s.augment, noise_rng, self.out_range) if spec.modality == "image" else None
        acgan = float(ours.get("acgan", 0.0))
        self.iteration = Iteration(
            self.engine,
            loss,
            self.state,
            s,
            s.ema,
            regularizers,
            augment,
            self.class_count,
            acgan,
            loss_penalties,
        )
        # The learning rates the optimisers start from; lr_decay scales them step by step (_schedule).
        self.base_lr = {"generator": s.lr_g, "discriminator": s.lr_d}
        self.figure_names = self.iteration.names
        self.state.tally.sums = torch.zeros(len(self.figure_names), device=device)
        self.reporters = Reporters(list(reporters))
        self.last_figures: dict[str, float] = {}
        self.last_eval: dict[str, Any] | None = None
        self.eval_seconds = 0.0  # how long the last evaluation took (set by the PeriodicEval reporter)
        self._stop_signal: int | None = None
        self.restored = False  # the checkpoint is loaded (resume): fit continues from it
        self.resume_notes: list[str] = []  # what the user should know about how it was loaded
        self._t0 = time.perf_counter()

    def _batches(
        self, real: Any, device: torch.device, labels: torch.Tensor | None
    ) -> tuple[TensorBatches | StreamBatches, torch.Generator, torch.Generator]:
        """Where real batches come from, this rank's noise stream and the batch-index stream.

        Alone, noise and batches share one stream. Under torchrun every rank draws the same global
        batch indices from a shared stream and takes its own share of them (disjoint batches), while
        its noise stream is its own. The fixed sample noise is the same everywhere.
        """
        group, seed = self.group, self.seed
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
                self.spec.value_range,
                self.out_range,
                seed + rank,
                device,
                self.settings.batch_size,
                self.engine.channels_last,
                labels,
            )
            return stream, noise_rng, data_rng
        if real.ndim < 2 or tuple(real.shape[1:]) != self.spec.shape:
            raise TrainingError(
                f"The dataset '{self.config.dataset}' returned samples of shape "
                f"{tuple(real.shape[1:])}, not the {self.spec.shape} it declares."
            )
        # The data lives on the device once, already in the generator's output range.
        data = rescale(real.to(torch.float32), self.spec.value_range, self.out_range).to(device)
        data = self.engine.data_layout(data)
        batches = TensorBatches(data, self.settings.data_order, data_rng, rank, world, labels)
        return batches, noise_rng, data_rng

    # -- what reporters read ------------------------------------------------------------------------
    @property
    def classes(self) -> int:
        """The class count under its name before ganzoo 0.3 (:attr:`class_count`)."""
        return self.class_count

    @property
    def step(self) -> int:
        """Iterations done."""
        return self.state.step

    @property
    def fixed_z(self) -> torch.Tensor:
        """The noise of the sample grids, the same all run long."""
        return self.state.fixed_z

    @property
    def skipped(self) -> int:
        return self.state.tally.skipped

    @property
    def sampler(self) -> Generator:
        """The generator that samples and is evaluated: the moving average when there is one."""
        g: Generator = self.state.modules.get("generator_ema", self.engine.G)  # type: ignore[assignment]
        return g

    def elapsed(self) -> float:
        """Seconds of training so far, earlier sessions of a resumed run included."""
        return time.perf_counter() - self._t0

    @torch.inference_mode()
    def sample(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Samples from the sampler in eval mode: images in [0, 1], sequences in the data's range.
        A conditional run's samples are of ``labels`` (the grid's, :attr:`fixed_labels`, if None)."""
        if self.class_count and labels is None:  # the grid's layout: one class a row
            same = self.fixed_labels is not None and len(z) == len(self.fixed_labels)
            labels = self.fixed_labels if same else grid_labels(len(z), self.class_count, z.device)
        with eval_mode(self.sampler) as g:
            x = g(z) if labels is None else g(z, labels)
        return ready(x, self.out_range, self.spec.modality, self.spec.value_range)

    def evaluated(self, figures: dict[str, Any]) -> None:
        """An evaluation's figures: kept for the run's result and passed to every reporter."""
        self.last_eval = figures
        self.reporters.call("on_evaluated", self, figures)

    # -- one iteration -----------------------------------------------------------------------------
    def train_step(self) -> None:
        """One iteration; with --compile the first one builds the kernels, and a failure is one sentence."""
        if not self.engine.compiling:
            self.iteration()
            return
        try:
            self.iteration()
        except Exception as exc:
            lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()] or [type(exc).__name__]
            # "backend='inductor' raised:" says little without the line after it
            first = (" ".join(lines[:2]) if lines[0].endswith(":") else lines[0])[:300]
            raise UsageError(
                f"--compile failed: torch.compile could not build the networks ({first}); "
                "train without --compile."
            ) from exc
        self.engine.compiling = False

    # -- the run -----------------------------------------------------------------------------------
    def fit(self, resume: bool = False) -> RunResult:
        """Train to the last iteration (from the checkpoint when ``resume``) and return how it ended."""
        s, state, reporters = self.settings, self.state, self.reporters
        if resume and not self.restored:
            self.restore()
        self._t0 = time.perf_counter() - state.seconds
        if self.main:
            self.run.file(rundir.SAMPLES).mkdir(parents=True, exist_ok=True)
        reporters.call("on_run_start", self, resume)
        self.engine.G.train()
        self.engine.D.train()
        every_step = reporters.every_step
        with self._signals():
            while state.step < self.iterations:
                if s.lr_decay != "none":
                    self._schedule()
                self.train_step()
                if self.iteration.skipped_in_a_row >= SKIP_LIMIT:
                    why = f"{SKIP_LIMIT} iterations in a row had a non-finite loss (--on-nan skip)"
                    self._diverged(why, state.step + 1)  # the iteration in progress
                state.step += 1
                step = state.step
                for method in every_step:
                    method(self)
                last = step == self.iterations
                if step % s.log_every == 0 or last:
                    reporters.call("on_step_logged", self, self._log())
                if step % s.sample_every == 0 or last:
                    reporters.call("on_samples_due", self)
                if s.eval_every and (step % s.eval_every == 0 or last):
                    reporters.call("on_eval_due", self)
                if step % s.checkpoint_every == 0 and not last:
                    self.save_checkpoint()
                stop = self._stop_signal is not None
                if self.group.shared:  # every rank stops at the same step, or the others hang;
                    # asked every STOP_EVERY steps: a collective per step costs gloo milliseconds
                    stop = step % STOP_EVERY == 0 and distributed.any_rank(stop, self.engine.device)
                if stop:
                    self._interrupt()
        self.save_checkpoint()
        result = RunResult(state.step, self.elapsed(), self.last_figures, self.last_eval)
        reporters.call("on_run_end", self, result)
        return result

    def _schedule(self) -> None:
        """Set both optimisers' learning rates for the coming iteration (--set lr_decay=...)."""
        s = self.settings
        factor = lr_factor(s.lr_decay, s.lr_decay_start, self.state.step, self.iterations)
        for name, opt in self.state.optimizers.items():
            for group in opt.param_groups:
                group["lr"] = self.base_lr[name] * factor

    def restore(self) -> None:
        """Load the run's checkpoint into the state (a damaged one is one sentence, nothing written)."""
        if self.main:
            self.run.clean_temporary()
        self.resume_notes = checkpoints.restore(self.state, self.run, self.seed, self.group)
        self.restored = True

    def save_checkpoint(self) -> None:
        s = self.settings
        checkpoints.save(
            self.state, self.run, self.iterations, self.elapsed(), s.keep_checkpoints, self.group
        )

    def _log(self) -> dict[str, float]:
        """The figures since the last log, and a stop if they (or the weights) are not finite."""
        tally = self.state.tally
        # The figures and whether each network's weights are still finite, in one host sync.
        weights_ok = [
            torch.isfinite(torch.stack(torch._foreach_norm([p.detach() for p in net.parameters()]))).all()
            for net in (self.engine.G, self.engine.D)
        ]
        local = torch.cat([tally.sums / max(tally.n, 1), torch.stack(weights_ok).float()])
        if self.group.shared:  # the mean over the ranks: all of them see, and stop on, the same figures
            local = distributed.mean(local)
        figures = local.tolist()
        names = self.figure_names
        values = dict(zip(names, figures[: len(names)], strict=True))
        tally.sums.zero_()
        tally.n = 0
        bad = [
            k
            for k in values
            if (k in LOSSES or k in self.iteration.penalty_names) and not math.isfinite(values[k])
        ]
        what = f"{bad[0]} became {values[bad[0]]}" if bad else ""
        for name, ok in zip(("generator", "discriminator"), figures[len(names) :], strict=True):
            if not what and ok < 1:  # under torchrun, below 1 when any rank's weights are not finite
                what = f"the {name}'s weights became NaN or infinite"
        if what:
            self._diverged(what, self.state.step)
        if "d_loss_real" in values:  # a per-batch loss: D's loss is the mean of its two halves
            values["d_loss"] = 0.5 * (values["d_loss_real"] + values["d_loss_fake"])
        if "d_acc_real" in values:  # how often D calls real real and fake fake, and both: GANs in
            values["d_acc"] = 0.5 * (values["d_acc_real"] + values["d_acc_fake"])  # Action's confusion matrix
        self.last_figures = values
        return values

    def _diverged(self, what: str, step: int) -> None:
        self.reporters.call("on_run_stopped", self, "diverged")
        ckpt = self.run.file(rundir.CHECKPOINT_DIR)
        kept = (
            f"the last good checkpoint is kept in {ckpt}."
            if self.run.file(rundir.CHECKPOINT).exists()
            else "no checkpoint had been written yet."
        )
        raise TrainingError(f"Training diverged by step {step}: {what}; {kept}")

    @contextmanager
    def _signals(self) -> Iterator[None]:
        """Ctrl-C and SIGTERM finish the current step, write a checkpoint and stop."""

        def handler(signum: int, frame: Any) -> None:
            self._stop_signal = signum

        previous = {}
        try:
            for sig in (signal.SIGINT, signal.SIGTERM):
                previous[sig] = signal.signal(sig, handler)
        except ValueError:  # not the main thread: leave signals alone
            pass
        try:
            yield
        finally:
            for sig, old in previous.items():
                signal.signal(sig, old)

    def _interrupt(self) -> None:
        self.save_checkpoint()
        self.reporters.call("on_run_stopped", self, "signal")
        signum = self._stop_signal or signal.SIGINT
        name = signal.Signals(signum).name
        raise Interrupted(
            f"Stopped by {name} at step {self.state.step} of {self.iterations}; a checkpoint is saved. "
            f"Resume with: ganzoo train --resume {self.run.path}",
            signum,
        )


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
