"""``ganzoo eval``: a trained generator measured against its dataset's test split (docs/metrics.md)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ganzoo import rundir, runlock, settings
from ganzoo.commands.results import Result
from ganzoo.manager import PluginManager, get_manager
from ganzoo.resolve import sampling_device
from ganzoo.rundir import Run, load_generator
from ganzoo.settings import check_truncation


@dataclass(frozen=True)
class Evaluation(Result):
    """``ganzoo eval``'s result: which run and generator, how it was measured, and the figures."""

    run: str
    dataset: str
    generator: str  # "moving average (--ema)" or "final weights", in words
    protocol: dict[str, Any]  # samples, seed, reference, feature space...
    metrics: dict[str, Any]  # the figures, by name
    labels: dict[str, str]  # each figure's label for people
    averaged: bool = False  # the moving average of G's weights was measured


def evaluate(
    run: str | Path,
    n: int = 10_000,
    seed: int = 0,
    device: str | None = None,
    batch_size: int = 500,
    inception_weights: Path | None = None,
    ema: bool = True,
    data_dir: Path | None = None,
    manager: PluginManager | None = None,
    truncation: float | None = None,
) -> Evaluation:
    """``ganzoo eval``: the run's generator measured against its dataset's test split.

    Returns an :class:`Evaluation` (its figures in ``metrics``; see docs/metrics.md), and keeps it as
    RUN/eval.json when the run is a run directory no other process is writing. ``truncation`` ψ
    in (0, 1] measures the generator on noise pulled toward the prior's centre (the protocol says so).
    """
    from ganzoo import build
    from ganzoo.evaluate import Evaluator
    from ganzoo.pretrained import resolve

    manager = manager or get_manager()
    settings.check("seed", seed, "--seed")
    psi = check_truncation(truncation)
    run = resolve(run, manager)
    g = load_generator(run, device=sampling_device(device), manager=manager, ema=ema)
    config = g.config
    if data_dir is None and g.record.data_dir:
        data_dir = Path(g.record.data_dir)
    dataset = build.component(manager, "dataset", config.dataset, record=g.record)
    ds = build.build_dataset(dataset, config, data_dir)
    evaluator = Evaluator(ds, config.dataset, g.device, n, batch_size, seed, inception_weights)
    figures = evaluator.evaluate_generator(
        g.module.eval(), config.train.prior, config.train.latent_dim, len(g.classes), psi
    )
    result = Evaluation(
        run=str(run),
        dataset=config.dataset,
        generator="moving average (--ema)" if g.ema else "final weights",
        protocol=evaluator.protocol(),
        metrics=figures,
        labels=evaluator.labels(figures),
        averaged=g.ema,
    )
    if psi == 1.0:  # eval.json stands for the run in compare and show: a truncated eval does not
        _keep_eval(Path(run), result)
    return result


def _keep_eval(run: Path, result: Evaluation) -> None:
    """Keep an evaluation of a run directory as RUN/eval.json (``ganzoo compare`` and ``show`` read
    it), with the step it measured; a run folder that cannot be written keeps none, silently."""
    import json

    from ganzoo.files import atomic_write_text

    if not run.is_dir() or rundir.is_hub_folder(run) or not (run / rundir.CONFIG).is_file():
        return
    doc = {**result.to_json(), "steps": Run(run).steps}
    # A read-only copy of someone's run keeps none, nor does a run another process is training (its
    # lock is held: eval.json would be stale at its next step): the figures are printed all the same.
    with runlock.writing(run) as mine, contextlib.suppress(OSError):
        if mine:
            atomic_write_text(run / rundir.EVAL, json.dumps(doc, indent=2) + "\n")
