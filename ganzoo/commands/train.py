"""``ganzoo train``: a new run planned, built and trained, or a run resumed; returns its :class:`Run`."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ganzoo import env
from ganzoo.errors import UsageError
from ganzoo.manager import PluginManager, get_manager
from ganzoo.progress import Progress
from ganzoo.resolve import Request
from ganzoo.rundir import Run
from ganzoo.runlock import RunLock
from ganzoo.settings import TRAIN_KEYS

if TYPE_CHECKING:
    from ganzoo.training.reporters import Reporter


def train(
    arch: str | None = None,
    dataset: str | None = None,
    *,
    recipe: str | None = None,
    generator: str | None = None,
    discriminator: str | None = None,
    loss: str | None = None,
    out: Path | None = None,
    runs_root: Path | None = None,
    force: bool = False,
    data_dir: Path | None = None,
    sets: list[str] | tuple[str, ...] = (),
    resume: Path | None = None,
    init: Path | str | None = None,
    progress: Progress | None = None,
    manager: PluginManager | None = None,
    reporters: Sequence[Reporter] = (),
    **options: Any,
) -> Run:
    """Train ``arch`` on ``dataset`` (or resume a run) and return the :class:`ganzoo.Run`.

    ``options`` are training settings (iterations, batch_size, lr_g, device, seed, ...) that
    override the recipe; ``sets`` are ``KEY=VALUE`` strings reaching any declared hyperparameter;
    ``reporters`` are :class:`ganzoo.training.Reporter` objects that act on the loop's events.
    ``init`` fine-tunes: G and D (when it has one) start from that run directory, hub folder or
    pretrained generator's name, with fresh optimisers.
    """
    from ganzoo import build, planning
    from ganzoo.training import launch

    manager = manager or get_manager()
    options = {k: (list(v) if isinstance(v, tuple) else v) for k, v in options.items() if v is not None}
    unknown = sorted(set(options) - TRAIN_KEYS)
    if unknown:
        raise UsageError(f"'{unknown[0]}' is not a training setting; see `ganzoo train --help`.")
    if resume is not None and init is not None:
        raise UsageError(
            "--init starts a new run from trained weights; --resume continues a run from its checkpoint: "
            "give one or the other."
        )
    if resume is not None:
        if force:
            raise UsageError(
                "--force lets a new run fill a folder that is not empty; --resume continues a run in its "
                "own folder: give one or the other."
            )
        names = {
            "arch": arch,
            "dataset": dataset,
            "generator": generator,
            "discriminator": discriminator,
            "loss": loss,
            "recipe": recipe,
        }
        if env.rank() == 0:  # a run another process is writing: say so before reading it
            RunLock(Run.open(Path(resume)).path).check_free()
        plan = planning.resume(Path(resume), names, options, tuple(sets), out, data_dir)
    else:
        if arch is None or dataset is None:
            raise UsageError("Name an architecture and a dataset, e.g. `ganzoo train vanilla-mlp mnist`.")
        request = Request(arch, dataset, recipe, generator, discriminator, loss, options, tuple(sets))
        lookup = partial(build.lookup, manager)
        plan = planning.new_run(request, lookup, out, runs_root, force, data_dir, init)
    return launch.execute(launch.build(plan, manager, progress, reporters))
