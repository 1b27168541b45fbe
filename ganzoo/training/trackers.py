"""Experiment trackers as reporters: ``--tracker mlflow`` and ``--tracker wandb`` (repeatable).

Each logs the run's settings when it starts, the training figures at every logged step, the eval
figures of ``--eval-every``, each sample grid as it is written, and, once the run's files are
saved, the generator's weights, config.json and a model card. MLflow writes where
``MLFLOW_TRACKING_URI`` says, else to MLflow's own default (``mlflow.db`` beside the run's
command, with the artifacts in ``./mlruns``: ``mlflow ui`` there shows them); W&B follows its own
environment (``WANDB_MODE=offline``, ``WANDB_PROJECT``...; the project defaults to "ganzoo").

A tracker is a guest: the first time one of its calls fails (a server gone, a disk full), it warns
once and is switched off, and training goes on.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import logging
import sys
from pathlib import Path
from typing import Any

from ganzoo import rundir
from ganzoo.errors import UsageError
from ganzoo.record import RunResult
from ganzoo.training.reporters import Reporter, Trainer

#: The trackers ``--tracker`` knows, and the package (and extra) each needs.
TRACKERS = {"mlflow": ("mlflow", "ganzoo[mlflow]"), "wandb": ("wandb", "ganzoo[wandb]")}


def make_tracker(name: str) -> Reporter:
    """The tracker ``name``, or one sentence when it is unknown or its package is not installed."""
    if name not in TRACKERS:
        raise UsageError(f"--tracker must be one of {', '.join(TRACKERS)}, got {name!r:.40}.")
    package, extra = TRACKERS[name]
    if importlib.util.find_spec(package) is None:
        raise UsageError(
            f"--tracker {name} needs the {package} package, which is not installed: pip install '{extra}'."
        )
    return MLflowTracker() if name == "mlflow" else WandbTracker()


def flat_settings(trainer: Trainer) -> dict[str, Any]:
    """The run's configuration as flat ``key: value`` parameters (``train.lr_g``, ``generator.hidden``)."""
    config = trainer.config.to_json()
    out: dict[str, Any] = {k: config[k] for k in ("generator", "discriminator", "dataset", "loss", "recipe")}
    for kind, params in config["params"].items():
        out.update({f"{kind}.{k}": v for k, v in params.items()})
    out.update({f"train.{k}": v for k, v in config["train"].items()})
    out["seed"] = trainer.seed
    return out


class Tracker(Reporter):
    """What both trackers share: a failure warns once and switches the tracker off."""

    name = "tracker"

    def __init__(self) -> None:
        self.off = False
        self.run: Any = None  # the tracker's own run object, between start and finish

    def guarded(self, what: str, call: Any, *args: Any) -> None:
        if self.off:
            return
        try:
            call(*args)
        except Exception as exc:  # a guest's failure never stops training
            self.off = True
            # Close the tracker's run now, not in its atexit hook (with whatever the cwd is then); it
            # failed already, and the warning below says so.
            with contextlib.suppress(Exception):
                self.finish("FAILED")
            print(
                f"warning: the {self.name} tracker failed while {what} ({type(exc).__name__}: {exc}); "
                "training goes on without it.",
                file=sys.stderr,
            )

    # -- the events, each guarded ----------------------------------------------------------------
    def on_run_start(self, trainer: Trainer, resumed: bool) -> None:
        self.guarded("starting", self.start, trainer, resumed)

    def on_step_logged(self, trainer: Trainer, figures: dict[str, float]) -> None:
        self.guarded("logging figures", self.figures, trainer.step, figures)

    def on_evaluated(self, trainer: Trainer, figures: dict[str, Any]) -> None:
        numbers = {f"eval/{k}": v for k, v in figures.items() if isinstance(v, (int, float))}
        self.guarded("logging eval figures", self.figures, trainer.step, numbers)

    def on_samples_due(self, trainer: Trainer) -> None:
        grid = trainer.run.file(rundir.SAMPLES) / f"step-{trainer.step:07d}.png"
        if grid.is_file():  # written by the sample-grid reporter, which runs first
            self.guarded("logging a sample grid", self.grid, trainer.step, grid)

    def on_run_saved(self, trainer: Trainer, run_dir: Path) -> None:
        self.guarded("logging the run's files", self.files, run_dir)
        self.guarded("finishing", self.finish, "FINISHED")

    def on_run_end(self, trainer: Trainer, result: RunResult) -> None:
        pass  # the files come in on_run_saved, once written

    def on_run_stopped(self, trainer: Trainer, why: str) -> None:
        self.guarded("finishing", self.finish, "KILLED" if why == "signal" else "FAILED")

    # -- what each tracker implements ---------------------------------------------------------------
    def start(self, trainer: Trainer, resumed: bool) -> None:
        raise NotImplementedError

    def figures(self, step: int, values: dict[str, float]) -> None:
        raise NotImplementedError

    def grid(self, step: int, path: Path) -> None:
        raise NotImplementedError

    def files(self, run_dir: Path) -> None:
        raise NotImplementedError

    def finish(self, status: str) -> None:
        raise NotImplementedError


def model_card(run_dir: Path) -> str:
    """A short model card for a finished run: what trained on what, how long, its last figures."""
    record = json.loads((run_dir / rundir.CONFIG).read_text(encoding="utf-8"))
    run, result = record["run"], record.get("result") or {}
    lines = [
        f"# {run_dir.name}",
        "",
        f"A {run['generator']} GAN trained by ganzoo on {run['dataset']} with the {run['loss']} loss "
        f"(recipe {run.get('recipe')}), seed {record['seed']}, {result.get('steps')} iterations in "
        f"{result.get('seconds', 0):.0f} s on {record.get('device')}.",
        "",
        "Load it with `ganzoo.load_generator(PATH)` or sample it with `ganzoo generate PATH -o grid.png`.",
    ]
    if result.get("eval"):
        lines += ["", "Eval figures (--eval-every):", ""]
        lines += [f"- {k}: {v}" for k, v in result["eval"].items() if isinstance(v, (int, float))]
    return "\n".join(lines) + "\n"


class MLflowTracker(Tracker):
    name = "mlflow"

    def start(self, trainer: Trainer, resumed: bool) -> None:
        import mlflow

        logging.getLogger("mlflow").setLevel(logging.WARNING)  # its table-creation chatter
        # A resumed run continues the MLflow run it started when there is one to find.
        run_id = _read_id(trainer.run.path, "mlflow") if resumed else None
        self.run = mlflow.start_run(run_id=run_id, run_name=trainer.run.path.name)
        _write_id(trainer.run.path, "mlflow", self.run.info.run_id)
        if run_id is None:
            params = {k: str(v)[:500] for k, v in flat_settings(trainer).items()}
            mlflow.log_params(params)

    def figures(self, step: int, values: dict[str, float]) -> None:
        import mlflow

        mlflow.log_metrics({k.replace("/", "."): float(v) for k, v in values.items()}, step=step)

    def grid(self, step: int, path: Path) -> None:
        import mlflow

        mlflow.log_artifact(str(path), artifact_path="samples")

    def files(self, run_dir: Path) -> None:
        import mlflow

        for name in (rundir.GENERATOR, rundir.GENERATOR_EMA, rundir.CONFIG):
            if (run_dir / name).is_file():
                mlflow.log_artifact(str(run_dir / name), artifact_path="model")
        mlflow.log_text(model_card(run_dir), "model/README.md")

    def finish(self, status: str) -> None:
        import mlflow

        if self.run is not None:
            mlflow.end_run(status=status)
            self.run = None


class WandbTracker(Tracker):
    name = "wandb"

    def start(self, trainer: Trainer, resumed: bool) -> None:
        import os

        import wandb

        run_id = _read_id(trainer.run.path, "wandb") if resumed else None
        self.run = wandb.init(
            project=os.environ.get("WANDB_PROJECT", "ganzoo"),
            name=trainer.run.path.name,
            config=flat_settings(trainer),
            dir=str(trainer.run.path),
            id=run_id,
            resume="allow" if run_id else None,
        )
        _write_id(trainer.run.path, "wandb", self.run.id)

    def figures(self, step: int, values: dict[str, float]) -> None:
        self.run.log({k: float(v) for k, v in values.items()}, step=step)

    def grid(self, step: int, path: Path) -> None:
        import wandb

        self.run.log({"samples": wandb.Image(str(path))}, step=step)

    def files(self, run_dir: Path) -> None:
        import wandb

        (run_dir / "wandb" / "model-card.md").write_text(model_card(run_dir), encoding="utf-8")
        artifact = wandb.Artifact(f"{run_dir.name}-generator".replace(":", "-"), type="model")
        for name in (rundir.GENERATOR, rundir.GENERATOR_EMA, rundir.CONFIG):
            if (run_dir / name).is_file():
                artifact.add_file(str(run_dir / name))
        artifact.add_file(str(run_dir / "wandb" / "model-card.md"), name="README.md")
        self.run.log_artifact(artifact)

    def finish(self, status: str) -> None:
        if self.run is not None:
            self.run.finish(exit_code=0 if status == "FINISHED" else 1)
            self.run = None


def _id_file(run_dir: Path) -> Path:
    return run_dir / "trackers.json"


def _read_id(run_dir: Path, name: str) -> str | None:
    try:
        value = json.loads(_id_file(run_dir).read_text(encoding="utf-8")).get(name)
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def _write_id(run_dir: Path, name: str, run_id: str) -> None:
    """Which tracker run this run logs to (trackers.json), so a resume continues it."""
    from ganzoo.files import atomic_write_text

    try:
        known = json.loads(_id_file(run_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        known = {}
    known = known if isinstance(known, dict) else {}
    atomic_write_text(_id_file(run_dir), json.dumps({**known, name: run_id}))
