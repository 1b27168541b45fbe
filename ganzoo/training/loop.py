"""The training loop: iterations on data held as one tensor, with no per-step host sync; the events
its reporters act on; signals; divergence; and, under torchrun, the ranks' agreement on stopping.
What it runs (engine, batches, state, one iteration) is built before it, by ``training/assemble``."""

from __future__ import annotations

import math
import signal
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import torch

from ganzoo import distributed, rundir
from ganzoo.components import DataSpec, Generator
from ganzoo.errors import Interrupted, TrainingError, UsageError
from ganzoo.figures import LOSSES
from ganzoo.optim import lr_factor
from ganzoo.record import RunResult
from ganzoo.rundir import Run
from ganzoo.sampling import eval_mode, grid_labels, ready
from ganzoo.settings import RunConfig, TrainSettings
from ganzoo.training import state as checkpoints
from ganzoo.training.assemble import Parts, Setup
from ganzoo.training.reporters import Reporter, Reporters
from ganzoo.training.step import SKIP_LIMIT

if TYPE_CHECKING:
    from ganzoo.evaluate import Evaluator

#: Under torchrun the ranks agree whether to stop (a signal) every this many steps.
STOP_EVERY = 10


class Trainer:
    """Runs one run: fit → the loop → one iteration a step, its reporters writing the run directory.

    Everything it runs with was decided and built before (``training/assemble``): ``setup`` holds
    the run as values, ``parts`` the engine, batches, state and iteration built from it.
    """

    def __init__(
        self,
        setup: Setup,
        parts: Parts,
        run: Run,
        reporters: Sequence[Reporter] = (),
        evaluator: Evaluator | None = None,
    ) -> None:
        self.setup = setup
        self.run, self.evaluator = run, evaluator
        self.engine, self.batches, self.state = parts.engine, parts.batches, parts.state
        self.iteration, self.iterations = parts.iteration, parts.iterations
        self.out_range, self.frozen = parts.out_range, parts.frozen
        self.fixed_labels, self.real_preview = parts.fixed_labels, parts.real_preview
        self.n = parts.batches.n
        # The learning rates the optimisers start from; lr_decay scales them step by step (_schedule).
        self.base_lr = {"generator": self.settings.lr_g, "discriminator": self.settings.lr_d}
        self.figure_names = parts.iteration.names
        self.reporters = Reporters(list(reporters))
        self.last_figures: dict[str, float] = {}
        self.last_eval: dict[str, Any] | None = None
        self.eval_seconds = 0.0  # how long the last evaluation took (set by the PeriodicEval reporter)
        self._stop_signal: int | None = None
        self.restored = False  # the checkpoint is loaded (resume): fit continues from it
        self.resume_notes: list[str] = []  # what the user should know about how it was loaded
        self._t0 = time.perf_counter()

    # -- what reporters read ------------------------------------------------------------------------
    @property
    def config(self) -> RunConfig:
        return self.setup.config

    @property
    def settings(self) -> TrainSettings:
        return self.setup.settings

    @property
    def spec(self) -> DataSpec:
        return self.setup.spec

    @property
    def seed(self) -> int:
        return self.setup.seed

    @property
    def group(self) -> distributed.Group:
        return self.setup.group

    @property
    def main(self) -> bool:
        """Only rank 0 writes the run directory."""
        return self.setup.group.main

    @property
    def class_count(self) -> int:
        """How many classes the run is conditioned on: 0 for an unconditional run."""
        return self.setup.class_count

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
