"""Side work on the training loop's events: the log, the pictures, TensorBoard, eval, progress.

The loop knows none of them by name (Lightning Fabric's ``fabric.call("on_train_batch_end")``
and Keras callbacks work this way): it calls each event on every :class:`Reporter` that
overrides it. A user passes more with ``ganzoo.train(..., reporters=[...])``; a plugin registers
one by name through the ``register_reporters`` hook, and ``ganzoo train --report NAME`` adds it.

Every event receives the trainer (:class:`ganzoo.training.loop.Trainer`), seen through
:class:`Trainer`, the part of it a reporter may read; a reporter changes nothing in it. Only
rank 0 gets the reporters that write files.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ganzoo import figures as names
from ganzoo import rundir
from ganzoo.errors import UsageError
from ganzoo.progress import Progress
from ganzoo.record import RunResult

if TYPE_CHECKING:
    import torch

    from ganzoo.dataspec import DataSpec
    from ganzoo.evaluate import Evaluator
    from ganzoo.rundir import Run
    from ganzoo.settings import RunConfig, TrainSettings


class Trainer(Protocol):
    """What a reporter reads of the trainer it is given."""

    run: Run  # the run directory (``trainer.run.file(rundir.LOG)``)
    config: RunConfig  # components, hyperparameters and settings, as config.json records them
    seed: int  # the run's seed (drawn when none was given)
    settings: TrainSettings
    spec: DataSpec  # what one real sample looks like
    iterations: int  # the run's last iteration
    evaluator: Evaluator | None  # with --eval-every, on rank 0
    real_preview: torch.Tensor | None  # a few real curves (sequence data), in the data's range
    class_count: int  # a conditional run's number of classes; 0 for an unconditional run (0.2: classes)
    fixed_labels: torch.Tensor | None  # a conditional run: the grid's labels, one class a row
    eval_seconds: float  # how long the last evaluation took (metrics.jsonl's eval lines say so)
    resume_notes: list[str]  # a resumed run: what the user should know about how it was loaded

    @property
    def step(self) -> int:
        """Iterations done."""

    @property
    def fixed_z(self) -> torch.Tensor:
        """The noise of the sample grids."""

    @property
    def skipped(self) -> int:
        """Updates skipped for a non-finite loss (--on-nan skip)."""

    @property
    def sampler(self) -> torch.nn.Module:
        """The generator that samples and is evaluated (its moving average with --ema)."""

    def elapsed(self) -> float:
        """Seconds of training so far, earlier sessions of a resumed run included."""

    def sample(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Samples for ``z`` in eval mode: images in [0, 1], sequences in the data's range (a
        conditional run's of ``labels``; of :attr:`fixed_labels` for the grid's noise)."""

    def evaluated(self, figures: dict[str, Any]) -> None:
        """Hand an evaluation's figures to the run's result and to every reporter."""


EVENTS = (
    "on_run_start",
    "on_step_end",
    "on_step_logged",
    "on_samples_due",
    "on_eval_due",
    "on_evaluated",
    "on_run_end",
    "on_run_stopped",
    "on_run_saved",
)


class Reporter:
    """Side work on the loop's events; override the ones you need (each does nothing here)."""

    def on_run_start(self, trainer: Trainer, resumed: bool) -> None:
        """Training begins (or continues from a checkpoint, at ``trainer.step``)."""

    def on_step_end(self, trainer: Trainer) -> None:
        """An iteration ended; called every iteration, so keep it cheap."""

    def on_step_logged(self, trainer: Trainer, figures: dict[str, float]) -> None:
        """The training figures, averaged since the last log (every ``log_every`` iterations)."""

    def on_samples_due(self, trainer: Trainer) -> None:
        """Time for a sample grid (every ``sample_every`` iterations and at the end)."""

    def on_eval_due(self, trainer: Trainer) -> None:
        """Time for an evaluation (every ``eval_every`` iterations and at the end, when set)."""

    def on_evaluated(self, trainer: Trainer, figures: dict[str, Any]) -> None:
        """``ganzoo eval``'s figures for the sampling generator at ``trainer.step``."""

    def on_run_end(self, trainer: Trainer, result: RunResult) -> None:
        """Training finished; the last checkpoint is written."""

    def on_run_stopped(self, trainer: Trainer, why: str) -> None:
        """Training stopped early: ``"signal"`` (Ctrl-C or SIGTERM, checkpoint written) or ``"diverged"``."""

    def on_run_saved(self, trainer: Trainer, run_dir: Path) -> None:
        """A finished run's files are written: its final weights and config.json with the result."""


class Reporters:
    """The reporters of one run, each event dispatched to those that override it."""

    def __init__(self, reporters: list[Reporter]) -> None:
        self.all = list(reporters)
        self._by_event = {
            event: [
                getattr(r, event)
                for r in self.all
                if getattr(type(r), event, None) is not getattr(Reporter, event)
            ]
            for event in EVENTS
        }
        self.every_step = self._by_event["on_step_end"]

    def call(self, event: str, *args: Any) -> None:
        for method in self._by_event[event]:
            method(*args)


class ProgressReporter(Reporter):
    """The progress bar (or plain lines) of the command line."""

    def __init__(self, progress: Progress, every: int = 10) -> None:
        self.progress, self.every = progress, every

    def on_run_start(self, trainer: Trainer, resumed: bool) -> None:
        self.progress.start(trainer.iterations, trainer.step)
        for note in trainer.resume_notes:
            self.progress.note(note)

    def on_step_end(self, trainer: Trainer) -> None:
        if trainer.step % self.every == 0:
            self.progress.advance(trainer.step)

    def on_step_logged(self, trainer: Trainer, figures: dict[str, float]) -> None:
        self.progress.metrics(trainer.step, figures)

    def on_evaluated(self, trainer: Trainer, figures: dict[str, Any]) -> None:
        extra = trainer.evaluator.figure_labels if trainer.evaluator is not None else None
        self.progress.note(f"step {trainer.step}: " + names.eval_line(figures, extra))

    def on_run_end(self, trainer: Trainer, result: RunResult) -> None:
        self.progress.stop()

    def on_run_stopped(self, trainer: Trainer, why: str) -> None:
        self.progress.stop()


class LogFile(Reporter):
    """metrics.jsonl: one JSON object per logged step, and one per evaluation."""

    def on_run_start(self, trainer: Trainer, resumed: bool) -> None:
        path = trainer.run.file(rundir.LOG)
        if not resumed:
            path.write_text("")
        else:  # lines logged after the checkpoint are logged again as those steps repeat; damaged ones go
            rundir.trim_log(path, trainer.step)

    def on_step_logged(self, trainer: Trainer, figures: dict[str, float]) -> None:
        record = {
            "step": trainer.step,
            **{k: round(v, 6) for k, v in figures.items()},
            **({"skipped": trainer.skipped} if trainer.settings.on_nan == "skip" else {}),
            "time": round(trainer.elapsed(), 3),
        }
        self._append(trainer, record)

    def on_evaluated(self, trainer: Trainer, figures: dict[str, Any]) -> None:
        # "time" is the run's clock once the evaluation is done and "eval_s" what the evaluation took,
        # so that the training time at this step is "time" less every evaluation's "eval_s" so far.
        record = {
            "step": trainer.step,
            "eval": figures,
            "time": round(trainer.elapsed(), 3),
            "eval_s": round(trainer.eval_seconds, 3),
        }
        self._append(trainer, record)

    @staticmethod
    def _append(trainer: Trainer, record: dict[str, Any]) -> None:
        with open(trainer.run.file(rundir.LOG), "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")


class SampleGrids(Reporter):
    """samples/step-NNNNNNN.png: the fixed noise batch as a grid, or as curves beside real ones."""

    def on_samples_due(self, trainer: Trainer) -> None:
        path = trainer.run.file(rundir.SAMPLES) / f"step-{trainer.step:07d}.png"
        if trainer.spec.modality == "image":
            from ganzoo.sampling import grid_columns, save_grid

            count = trainer.class_count
            columns = grid_columns(trainer.settings.samples, count) if count else None
            save_grid(trainer.sample(trainer.fixed_z), path, columns)
        elif trainer.real_preview is not None:
            from ganzoo.plots import plot_curves

            real, fake = trainer.real_preview, trainer.sample(trainer.fixed_z)
            plot_curves(fake.cpu(), real.cpu(), path, title=f"step {trainer.step}")


class Animation(Reporter):
    """samples/progress.gif from the grids so far: at the end, and when a run is stopped."""

    def _write(self, trainer: Trainer) -> None:
        if trainer.spec.modality == "image":
            from ganzoo.plots import animation

            animation(trainer.run.file(rundir.SAMPLES), trainer.run.file(rundir.ANIMATION))

    def on_run_end(self, trainer: Trainer, result: RunResult) -> None:
        self._write(trainer)

    def on_run_stopped(self, trainer: Trainer, why: str) -> None:
        if why == "signal":
            self._write(trainer)


class LossCurves(Reporter):
    """losses.png: the curves of metrics.jsonl, drawn at the end."""

    def on_run_end(self, trainer: Trainer, result: RunResult) -> None:
        from ganzoo.plots import plot_losses

        plot_losses(trainer.run.file(rundir.LOG), trainer.run.file(rundir.LOSSES))


class PeriodicEval(Reporter):
    """``ganzoo eval``'s figures every ``eval_every`` iterations and at the end (--eval-every)."""

    def __init__(self, evaluator: Evaluator) -> None:
        self.evaluator = evaluator

    def on_eval_due(self, trainer: Trainer) -> None:
        from ganzoo.sampling import eval_mode

        s = trainer.settings
        start = time.perf_counter()
        with eval_mode(trainer.sampler) as g:
            figures = self.evaluator.evaluate_generator(g, s.prior, s.latent_dim, trainer.class_count)
        trainer.eval_seconds = time.perf_counter() - start
        trainer.evaluated(figures)


class TensorBoard(Reporter):
    """RUN/tensorboard: the training figures, eval figures and sample grids as TensorBoard events."""

    def __init__(self) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter  # noqa: F401
        except ImportError as exc:
            raise UsageError(
                "--tensorboard needs the tensorboard package, which is not installed: "
                "pip install 'ganzoo[tensorboard]' (or pip install tensorboard)."
            ) from exc
        self.board: Any = None

    def on_run_start(self, trainer: Trainer, resumed: bool) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.board = SummaryWriter(str(trainer.run.file(rundir.TENSORBOARD)), purge_step=trainer.step + 1)

    def on_step_logged(self, trainer: Trainer, figures: dict[str, float]) -> None:
        for key, value in figures.items():
            self.board.add_scalar(f"train/{key}", value, trainer.step)

    def on_samples_due(self, trainer: Trainer) -> None:
        if trainer.spec.modality != "image":
            return
        from ganzoo.sampling import tile

        self.board.add_image("samples", tile(trainer.sample(trainer.fixed_z).cpu()), trainer.step)

    def on_evaluated(self, trainer: Trainer, figures: dict[str, Any]) -> None:
        for key, value in figures.items():
            if isinstance(value, (int, float)):
                self.board.add_scalar(f"eval/{key}", value, trainer.step)

    def _close(self) -> None:
        if self.board is not None:
            self.board.close()
            self.board = None

    def on_run_end(self, trainer: Trainer, result: RunResult) -> None:
        self._close()

    def on_run_stopped(self, trainer: Trainer, why: str) -> None:
        self._close()
