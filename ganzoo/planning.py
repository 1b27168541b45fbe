"""Before anything trains: what a new run, or a resumed one, will be — or one sentence why not.

A new run resolves its configuration from the request (:mod:`ganzoo.resolve`). A resumed run
keeps the configuration it recorded: the settings a resume may change (more iterations, another
device, threads, how often it logs...) are applied and recorded; any other difference from the
record (another dataset, batch size or loss, fewer iterations than it has trained) is refused,
naming it. Light: no torch.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ganzoo import env, rundir, settings, user_settings
from ganzoo.errors import RunDirError, UsageError
from ganzoo.files import read_metadata
from ganzoo.record import RunRecord
from ganzoo.resolve import Lookup, Request, command_line, environment, parse_sets, resolve
from ganzoo.rundir import Run
from ganzoo.settings import FIELDS, RunConfig, TrainSettings


@dataclass
class Plan:
    """A run about to be built: its configuration, its folder and, when resumed, its record."""

    config: RunConfig
    run: Run
    data_dir: Path | None = None
    record: RunRecord | None = None  # None for a new run: it is made once the data is known
    step: int = 0  # where a resumed run continues from
    changes: dict[str, list[Any]] = field(default_factory=dict)  # setting → [recorded, new]
    force: bool = False  # a new run may fill a folder that is not empty
    notes: list[str] = field(default_factory=list)  # what the user is told before it trains
    init: Path | str | None = None  # fine-tuning: the run, hub folder or pretrained name to start from

    @property
    def resume(self) -> bool:
        return self.record is not None

    def resumed_record(self) -> RunRecord:
        """The record of a resumed run with this resume's changes applied and noted."""
        assert self.record is not None
        record = self.record
        record.config = self.config
        if self.changes:
            record.resumes.append(
                {"step": self.step, "at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "changed": self.changes}
            )
        return record


def new_run(
    request: Request,
    lookup: Lookup,
    out: Path | None = None,
    runs_root: Path | None = None,
    force: bool = False,
    data_dir: Path | None = None,
    init: Path | str | None = None,
) -> Plan:
    """Resolve a new run's configuration and choose (and check) its folder; ``init``: fine-tune from
    that run, hub folder or pretrained generator."""
    notes: list[str] = []
    config = resolve(request, lookup, notes=notes)
    root = Path(runs_root) if runs_root is not None else user_settings.runs_root()
    path = Path(out) if out is not None else Run.default_path(root, request.arch, request.dataset)
    run = Run(path)
    if env.rank() == 0:  # under torchrun the other ranks write nothing
        run.check_new(force)
    return Plan(config, run, data_dir, force=force, notes=notes, init=init)


def resume(
    path: Path,
    names: dict[str, str | None],
    options: dict[str, Any],
    sets: tuple[str, ...] = (),
    out: Path | None = None,
    data_dir: Path | None = None,
) -> Plan:
    """Continue the run at ``path``: the request may change what a resume can, and nothing else.

    ``names`` are the components (and recipe) the user named, None where not given; ``options``
    and ``sets`` are the command line's training settings.
    """
    run = Run.open(Path(path))
    if out is not None and Path(out).resolve() != run.path.resolve():
        raise UsageError(
            f"--out names a new run's folder, but --resume continues {run.path} in its own; "
            "give one or the other."
        )
    record = run.record
    checkpoint = run.file(rundir.CHECKPOINT)
    if not checkpoint.is_file():
        raise RunDirError(f"{run.path} has no checkpoint to resume from.")
    step = checkpoint_step(checkpoint)
    config = record.config
    _same_components(run, record, names)

    set_train, set_params = parse_sets(sets, config.params)
    for kind, values in set_params.items():
        for key, value in values.items():
            recorded = config.params[kind][key]
            if value != recorded:
                raise _conflict(run, f"{kind}.{key}", recorded, value)
    # GANZOO_DEVICE moves a resumed run as --device does; the settings file's [train] does not.
    asked = {**environment(), **command_line(options, set_train)}
    recorded_train = asdict(config.train)
    train = settings.layered([("run", recorded_train), ("command line", asked)])
    changes = {k: [recorded_train[k], v] for k, v in train.items() if v != recorded_train[k]}
    for key, (old, new) in changes.items():
        if not FIELDS[key].metadata["resume"]:
            raise _conflict(run, settings.label(key), old, new)
    new_settings = TrainSettings(**train)
    for key in asked:  # what the record holds was checked when it was read (RunConfig.from_json)
        settings.check(key, train[key])
    total = settings.total_iterations(new_settings, record.data_size, env.world_size())
    if total < step:
        raise UsageError(
            f"{run.path} has trained {step} iterations already; asking for {total} in all would undo "
            f"them (ask for more, or leave --iterations and --epochs out to finish the {record.iterations} "
            "it planned)."
        )
    config = RunConfig(
        config.generator,
        config.discriminator,
        config.dataset,
        config.loss,
        config.recipe,
        config.params,
        new_settings,
    )
    if data_dir is None and record.data_dir:
        data_dir = Path(record.data_dir)  # the same files the run started on
    return Plan(config, run, data_dir, record, step, changes)


def checkpoint_step(path: Path) -> int:
    """The iterations a checkpoint has trained, from its metadata (no torch)."""
    try:
        return int(json.loads(read_metadata(path)["state"])["step"])
    except (KeyError, ValueError, TypeError) as exc:
        raise RunDirError(f"{path} is damaged or not a ganzoo checkpoint.") from exc


def _same_components(run: Run, record: RunRecord, names: dict[str, str | None]) -> None:
    """Refuse a resume that names another architecture, dataset, loss or recipe than the run's."""
    config = record.config
    arch = names.get("arch")
    wanted = {
        "generator": names.get("generator") or arch,
        "discriminator": names.get("discriminator") or arch,
        "dataset": names.get("dataset"),
        "loss": names.get("loss"),
    }
    for kind, name in wanted.items():
        recorded = getattr(config, kind)
        qualified = record.components.get(kind, recorded)
        if name is not None and name not in (recorded, qualified) and not qualified.endswith(":" + name):
            raise _conflict(run, f"the {kind}", recorded, name)
    recipe = names.get("recipe")
    if recipe is not None and recipe != config.recipe:
        raise _conflict(run, "the recipe", config.recipe, recipe)


def _conflict(run: Run, what: str, recorded: Any, asked: Any) -> UsageError:
    return UsageError(
        f"{run.path} was trained with {what} {_show(recorded)}; --resume cannot change it to "
        f"{_show(asked)} (start a new run for that)."
    )


def _show(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)
