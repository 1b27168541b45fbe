"""``ganzoo show``: what a run is and how far it got, from its files alone (no torch)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ganzoo import rundir
from ganzoo.commands.results import Result
from ganzoo.rundir import Run

_OMIT: Any = {"json": "omit-none"}


@dataclass(frozen=True)
class RunInfo(Result):
    """A run as ``ganzoo show`` prints it; compare, report and export read it too."""

    run_dir: str
    status: str  # finished, unfinished or damaged
    recipe: str | None
    generator: str
    discriminator: str
    dataset: str
    loss: str
    data: dict[str, Any]  # {"shape": [...], "size": N}
    conditional: list[str] | None  # a conditional run's class names
    seed: int
    device: str
    world_size: int
    streamed: bool  # its data was streamed from disk (a resume is not bit for bit)
    steps: int
    iterations: int
    seconds: float | None
    created: str
    last: dict[str, float]  # the last logged training figures
    eval: dict[str, Any] | None  # the latest eval figures ...
    eval_by: str | None  # ... and how they were measured
    latest_grid: str | None
    files: dict[str, int]  # every file of the run (but the lock's), with its size
    damage: str | None = field(default=None, metadata=_OMIT)  # why its files cannot do their job
    fix: str | None = field(default=None, metadata=_OMIT)  # and what to do
    log_skipped: int | None = field(default=None, metadata=_OMIT)  # damaged lines of metrics.jsonl
    resume: str | None = field(default=None, metadata=_OMIT)  # an unfinished run: the command
    init: dict[str, Any] | None = field(default=None, metadata=_OMIT)  # fine-tuned: what it started from


def show(run: str | Path) -> RunInfo:
    """What a run is and how far it got, from its files alone (no torch): ``ganzoo show``'s content.
    ``run`` may be a hub folder (``ganzoo export --format hub``) or a pretrained generator's name."""
    from ganzoo.pretrained import resolve

    run = resolve(run)

    r = Run.open(Path(run))
    hub = rundir.is_hub_folder(r.path)
    record, path = r.record, r.path
    lines, skipped = rundir.read_log_counted(r.file(rundir.LOG))
    logged = [row for row in lines if "g_loss" in row]
    evals = [row for row in lines if isinstance(row.get("eval"), dict)]
    result = record.result
    damage, fix = _damage(r, hub)
    seconds = result.seconds if result else (logged[-1].get("time") if logged else None)
    grids = sorted(r.file(rundir.SAMPLES).glob("step-*.png"))
    config = record.config
    last_eval = _last_eval(r, result, evals)
    return RunInfo(
        run_dir=str(path),
        status="damaged" if damage else "finished" if result else "unfinished",
        recipe=config.recipe,
        generator=config.generator,
        discriminator=config.discriminator,
        dataset=config.dataset,
        loss=config.loss,
        data={"shape": list(record.data.shape), "size": record.data_size},
        conditional=list(record.data.classes) if config.train.conditional else None,
        seed=record.seed,
        device=record.device,
        world_size=record.world_size,
        streamed=record.streamed,
        steps=r.steps,
        iterations=record.iterations,
        seconds=seconds if _is_number(seconds) else None,
        created=record.created,
        last={k: v for k, v in r.last.items() if _is_number(v)},  # a damaged log line may hold text
        eval=last_eval["eval"],
        eval_by=last_eval["eval_by"],
        latest_grid=str(grids[-1]) if grids else None,
        files={
            p.relative_to(path).as_posix(): p.stat().st_size
            for p in sorted(path.rglob("*"))
            if p.is_file() and not p.name.startswith(".")
        },
        damage=damage,
        fix=fix if damage else None,
        log_skipped=skipped or None,
        resume=f"ganzoo train --resume {path}" if not result and not damage and not hub else None,
        init=record.init,
    )


def _last_eval(r: Run, result: Any, evals: list[dict[str, Any]]) -> dict[str, Any]:
    """A run's latest eval figures and how they were measured (``eval``, ``eval_by``): ``ganzoo eval
    RUN``'s (eval.json) when it measured the run as far as it got, else the last of ``--eval-every``'s."""
    import json

    trained = (result.eval if result else None) or (evals[-1]["eval"] if evals else None)
    during = {
        "eval": trained,
        "eval_by": f"--eval-every, {r.record.config.train.eval_n} samples" if trained else None,
    }
    try:
        kept = json.loads(r.file(rundir.EVAL).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return during
    if not isinstance(kept, dict) or not isinstance(kept.get("metrics"), dict):
        return during
    if trained is not None and kept.get("steps") != r.steps:  # measured before the run went on
        return during
    protocol: dict[str, Any] = kept["protocol"] if isinstance(kept.get("protocol"), dict) else {}
    samples, seed = protocol.get("samples"), protocol.get("seed")
    by = f"ganzoo eval, {samples} samples, seed {seed}, {kept.get('generator')}"
    return {"eval": dict(kept["metrics"]), "eval_by": by}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _damage(r: Run, hub: bool = False) -> tuple[str | None, str]:
    """Why a run's files cannot do their job, and what to do, for ``ganzoo show``'s status; cheap, no torch.

    A finished run needs whole final weights: a copy or a full disk that cut generator.safetensors
    short would fail only at ``ganzoo generate``, so show reads each file's header and compares
    the byte ranges it declares with the file's size. An unfinished run needs a whole checkpoint.
    """
    from ganzoo.files import damage

    if hub:  # a generator folder: its one set of weights
        model = r.file(rundir.HUB_MODEL)
        return damage(model), "Export it again from its run, or reinstall the package that ships it."
    checkpoint = r.file(rundir.CHECKPOINT)
    if r.result is None:
        why = damage(checkpoint) if checkpoint.is_file() else None
        return why, "It cannot be resumed; train the run again."
    roles = [rundir.GENERATOR, rundir.DISCRIMINATOR]
    if r.file(rundir.GENERATOR_EMA).exists():
        roles.insert(1, rundir.GENERATOR_EMA)
    for name in roles:
        path = r.file(name)
        why = damage(path) if path.is_file() else f"{path} is missing."
        if why:
            if checkpoint.is_file() and damage(checkpoint) is None:
                resume = f"ganzoo train --resume {r.path}"
                return why, f"Rewrite the final weights from its checkpoint with `{resume}`."
            return why, "Its checkpoint cannot rebuild them; train the run again."
    return None, ""
