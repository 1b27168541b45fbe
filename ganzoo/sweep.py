"""``ganzoo sweep SPEC.toml``: variants of a run over seeds, each trial an ordinary run, on Optuna.

A spec (TOML) names the base run, the variants — a ``[grid]`` of every combination, a list of
``[variants.LABEL]`` tables, or a ``[search]`` space that Optuna's sampler explores within a trial
budget — the seeds, and the ``ganzoo eval`` figure that ranks them (``rank``). docs/guide.md
("Sweep") shows one of each.

Optuna keeps the sweep: its study (in an SQLite file beside the sweep by default, or in any
database ``--storage URL`` names, PostgreSQL for workers on several machines) holds every trial,
its variant, seed, state and figures. A trial is one ``ganzoo train`` subprocess writing its own
run directory (``DIR/trials/LABEL-seedS``), then ``ganzoo eval`` of it; with ``prune`` its
``--eval-every`` figures go to Optuna's pruner as they land, and a trial the pruner stops gets
SIGTERM (the run checkpoints and stops). Grid and list trials are all enqueued when the study is
created; a worker takes one by moving it from WAITING to RUNNING, which the storage lets only one
worker do. A worker's running trials carry its host, pid and a heartbeat: a trial whose worker is
gone (the pid is dead on this host, or the heartbeat is older than :data:`STALE_S`) is failed and
enqueued again by the next worker, under the same key, so it resumes from its run's checkpoint:
a sweep killed at any moment continues where it stopped, losing at most the steps since the
trials' last checkpoints.

Light to import: Optuna and torch are imported when a sweep runs.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomllib

from ganzoo.compare import BETTER
from ganzoo.errors import GanzooError, UsageError
from ganzoo.files import atomic_write_text

#: A running trial whose heartbeat is older than this (seconds) belongs to a worker that is gone.
STALE_S = 120.0
#: How often a worker writes its running trials' heartbeats; how often it polls their eval lines.
HEARTBEAT_S = 20.0
POLL_S = 1.0
#: The spec's top-level keys.
SPEC_KEYS = {
    "name", "arch", "dataset", "recipe", "generator", "discriminator", "loss", "data_dir", "seeds",
    "rank", "eval", "prune", "base", "grid", "variants", "search", "tracker",
}  # fmt: skip
#: Component names a variant may change (``loss = "hinge"``), besides settings and hyperparameters.
NAME_KEYS = ("generator", "discriminator", "loss")
PRUNERS = ("median", "halving")
SAMPLERS = ("tpe", "random")
#: The file in a sweep's folder that names its study and storage (``ganzoo sweep show DIR``).
SWEEP_FILE = "sweep.json"


class SweepError(GanzooError):
    """A sweep that cannot go on (a trial's process failed in a way that is not the trial's)."""


@dataclass(frozen=True)
class Space:
    """One searched setting: a float or int range (``log`` for a log scale), or choices."""

    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = None
    choices: tuple[Any, ...] = ()

    def suggest(self, trial: Any, key: str) -> Any:
        if self.choices:
            return trial.suggest_categorical(key, list(self.choices))
        assert self.low is not None and self.high is not None
        if isinstance(self.low, int) and isinstance(self.high, int) and not isinstance(self.step, float):
            return trial.suggest_int(key, self.low, self.high, step=int(self.step or 1), log=self.log)
        return trial.suggest_float(key, float(self.low), float(self.high), step=self.step, log=self.log)


@dataclass(frozen=True)
class SweepSpec:
    """A sweep spec, checked: everything a worker needs, nothing left to read from the file."""

    name: str
    arch: str
    dataset: str
    recipe: str | None
    names: dict[str, str]  # generator/discriminator/loss the base names
    data_dir: str | None
    base: dict[str, Any]
    seeds: tuple[int, ...]
    figure: str
    direction: str  # "minimize" or "maximize"
    eval_n: int
    mode: str  # "grid", "list" or "search"
    variants: dict[str, dict[str, Any]] = field(default_factory=dict)  # label -> changes (grid, list)
    space: dict[str, Space] = field(default_factory=dict)
    trials: int = 0  # search: the trial budget
    sampler: str = "tpe"
    pruner: str | None = None
    eval_every: int | None = None
    tracker: tuple[str, ...] = ()

    def fingerprint(self) -> str:
        """What must not change between two starts of one sweep (the study's user attribute); where
        the data is, the trackers and the name may."""
        keep = {k: v for k, v in self.__dict__.items() if k not in ("name", "data_dir", "tracker", "space")}
        keep["space"] = {k: v.__dict__ for k, v in self.space.items()}
        return json.dumps(keep, sort_keys=True, default=list)

    def planned(self) -> int:
        """How many trials the sweep runs: a variant and seed each (grid, list), or the budget."""
        return self.trials if self.mode == "search" else len(self.variants) * len(self.seeds)


# -- reading a spec -----------------------------------------------------------------------------------
def _as_set(key: str, value: Any) -> str:
    """A spec value as ``--set KEY=VALUE`` text that :func:`ganzoo.resolve.parse_value` reads back."""
    if isinstance(value, bool):
        return f"{key}={'true' if value else 'false'}"
    if isinstance(value, (int, float)):
        return f"{key}={value!r}"
    if isinstance(value, list):
        return f"{key}={json.dumps(value)}"
    return f"{key}={value}"


def _label(changes: dict[str, Any]) -> str:
    """A grid point's label: ``lr_g=0.001,loss.r1=10`` (``base`` for no change)."""
    return (
        ",".join(f"{k}={json.dumps(v) if isinstance(v, list) else v}" for k, v in changes.items()) or "base"
    )


def _table(raw: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = raw.get(key, {})
    if not isinstance(value, dict):
        raise UsageError(f"{where}: [{key}] must be a table, got {type(value).__name__}.")
    return value


def _no_nesting(table: dict[str, Any], section: str, where: str) -> None:
    """Refuse a table inside a table of settings: TOML nests at an unquoted dot, so ``loss.r1 = 1``
    or ``[variants.decay-0.25]`` would otherwise reach the trials as a setting named ``loss`` or ``25``."""
    for key, value in table.items():
        if isinstance(value, dict):
            inner = next(iter(value), "")
            raise UsageError(
                f"{where}: TOML reads {section}.{key}.{inner} as tables inside tables (an unquoted dot "
                'nests): quote a name that has a dot, as in "loss.r1" = 1 or [variants."decay-0.25"].'
            )


def read_spec(path: Path) -> SweepSpec:
    """The spec at ``path``, read and checked in form (names, shapes, numbers); one sentence if not."""
    where = str(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot read the sweep spec {where}: {exc.strerror or exc}.") from exc
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{where} is not valid TOML: {exc}.") from exc
    unknown = sorted(set(raw) - SPEC_KEYS)
    if unknown:
        raise UsageError(
            f"{where}: '{unknown[0]}' is not a sweep spec key; the keys: {', '.join(sorted(SPEC_KEYS))}."
        )
    for key in ("arch", "dataset"):
        if not isinstance(raw.get(key), str):
            raise UsageError(f'{where} must name the {key} (e.g. {key} = "vanilla-mlp").')
    modes = [m for m in ("grid", "variants", "search") if m in raw]
    if len(modes) != 1:
        raise UsageError(
            f"{where} must give exactly one of [grid], [variants.LABEL] tables or [search]; it gives "
            f"{', '.join(modes) or 'none'}."
        )
    seeds = raw.get("seeds", [0])
    if not isinstance(seeds, list) or not seeds or not all(type(s) is int and s >= 0 for s in seeds):
        raise UsageError(f"{where}: seeds must be a non-empty list of whole numbers ≥ 0, got {seeds!r:.60}.")
    if len(set(seeds)) != len(seeds):
        raise UsageError(f"{where}: seeds lists a seed twice ({seeds!r:.60}).")
    rank = _table(raw, "rank", where)
    figure = rank.get("figure", "fd")
    direction = rank.get("direction") or {"lower": "minimize", "higher": "maximize"}.get(
        BETTER.get(str(figure), ""), ""
    )
    if direction not in ("minimize", "maximize"):
        raise UsageError(
            f'{where}: say whether {figure} is better lower or higher: [rank] direction = "minimize" or '
            '"maximize".'
        )
    evaluation = _table(raw, "eval", where)
    eval_n = evaluation.get("n", 10_000)
    if type(eval_n) is not int or eval_n < 2:
        raise UsageError(f"{where}: [eval] n must be a whole number of samples ≥ 2, got {eval_n!r:.40}.")
    prune = _table(raw, "prune", where)
    pruner = prune.get("pruner")
    eval_every = prune.get("eval_every")
    if prune and pruner not in PRUNERS:
        raise UsageError(f"{where}: [prune] pruner must be one of {', '.join(PRUNERS)}, got {pruner!r:.40}.")
    if pruner and (type(eval_every) is not int or eval_every < 1):
        raise UsageError(
            f"{where}: a pruner judges a trial by its --eval-every figures: give [prune] eval_every = N "
            "(iterations)."
        )
    base = _table(raw, "base", where)
    _no_nesting(base, "base", where)
    names = {k: raw[k] for k in NAME_KEYS if isinstance(raw.get(k), str)}
    tracker = raw.get("tracker", [])
    tracker = [tracker] if isinstance(tracker, str) else tracker
    common: dict[str, Any] = {
        "name": str(raw.get("name") or path.stem),
        "arch": raw["arch"],
        "dataset": raw["dataset"],
        "recipe": raw.get("recipe"),
        "names": names,
        "data_dir": raw.get("data_dir"),
        "base": base,
        "seeds": tuple(seeds),
        "figure": str(figure),
        "direction": direction,
        "eval_n": eval_n,
        "pruner": pruner,
        "eval_every": eval_every if pruner else None,
        "tracker": tuple(tracker),
    }
    if "grid" in raw:
        grid = _table(raw, "grid", where)
        _no_nesting(grid, "grid", where)
        if not grid:
            raise UsageError(f"{where}: [grid] is empty: give each setting it varies a list of values.")
        for key, values in grid.items():
            if not isinstance(values, list) or not values:
                raise UsageError(
                    f"{where}: [grid] {key} must be a non-empty list of values, got {values!r:.60}."
                )
        points = [dict(zip(grid, combo, strict=True)) for combo in itertools.product(*grid.values())]
        return SweepSpec(mode="grid", variants={_label(p): p for p in points}, **common)
    if "variants" in raw:
        variants = _table(raw, "variants", where)
        if not variants:
            raise UsageError(f"{where}: [variants] is empty: give one [variants.LABEL] table a variant.")
        for label, changes in variants.items():
            if not isinstance(changes, dict):
                raise UsageError(f"{where}: variants.{label} must be a table of settings.")
            _no_nesting(changes, f"variants.{label}", where)
        return SweepSpec(mode="list", variants=variants, **common)
    search = _table(raw, "search", where)
    trials = search.get("trials")
    if type(trials) is not int or trials < 1:
        raise UsageError(f"{where}: [search] trials must be the trial budget, a whole number ≥ 1.")
    sampler = search.get("sampler", "tpe")
    if sampler not in SAMPLERS:
        raise UsageError(
            f"{where}: [search] sampler must be one of {', '.join(SAMPLERS)}, got {sampler!r:.40}."
        )
    space_raw = _table(search, "space", f"{where} [search]")
    if not space_raw:
        raise UsageError(f"{where}: [search.space] is empty: give each searched setting a range or choices.")
    space: dict[str, Space] = {}
    for key, value in space_raw.items():
        space[key] = _space(key, value, where)
    return SweepSpec(mode="search", space=space, trials=trials, sampler=sampler, **common)


def _space(key: str, value: Any, where: str) -> Space:
    if not isinstance(value, dict):
        raise UsageError(f"{where}: search.space.{key} must be {{low = …, high = …}} or {{choices = […]}}.")
    if "choices" in value:
        choices = value["choices"]
        if not isinstance(choices, list) or not choices:
            raise UsageError(f"{where}: search.space.{key}.choices must be a non-empty list.")
        return Space(choices=tuple(choices))
    low, high = value.get("low"), value.get("high")
    numbers = all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in (low, high)
    )
    if not numbers or not low < high:  # type: ignore[operator]
        raise UsageError(f"{where}: search.space.{key} needs numbers low < high, got {value!r:.60}.")
    log = bool(value.get("log", False))
    if log and low <= 0:  # type: ignore[operator]
        raise UsageError(f"{where}: search.space.{key} is on a log scale: low must be above 0.")
    return Space(low=low, high=high, log=log, step=value.get("step"))


def check(spec: SweepSpec) -> None:
    """Refuse, before any trial starts, what a trial would refuse: every variant's (and the search
    space's) settings resolved as ``ganzoo train`` would, and a figure the eval produces."""
    from functools import partial

    from ganzoo import build
    from ganzoo.manager import get_manager
    from ganzoo.resolve import resolve

    manager = get_manager()
    lookup = partial(build.lookup, manager)
    changes: list[tuple[str, dict[str, Any]]] = list(spec.variants.items())
    if spec.mode == "search":  # each end of each range and each choice, one at a time
        changes = [
            (f"search.space.{key}", {key: value})
            for key, space in spec.space.items()
            for value in (space.choices or (space.low, space.high))
        ]
    config = None
    for label, change in changes:
        try:
            config = resolve(request_for(spec, change, seed=spec.seeds[0]), lookup)
        except GanzooError as exc:
            raise UsageError(
                f"sweep {spec.name}, {'the base' if label == 'base' and not change else label}: {exc}"
            ) from exc
    assert config is not None
    dataset = lookup("dataset", config.dataset)
    figures = _figures(dataset, config.train.conditional)
    if spec.figure not in figures:
        raise UsageError(
            f"sweep {spec.name}: `ganzoo eval` of {config.dataset} does not measure '{spec.figure}'; it "
            f"measures {', '.join(sorted(figures))}."
        )


def _figures(dataset: Any, conditional: bool) -> set[str]:
    """The figures ``ganzoo eval`` produces for runs on ``dataset``."""
    own = set(getattr(dataset, "figure_labels", {}) or {})
    if getattr(dataset, "modality", "image") == "sequence":
        return {"mmd", *own}
    out = {"fd", "kid", "kid_std", "precision", "recall", *own}
    out |= {"classifier_score", "classes_covered", "class_kl"} if dataset.classifier else {"inception_score"}
    if conditional:
        out |= {"cond_accuracy", "class_fd_mean"}
    return out


def _split(spec: SweepSpec, changes: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
    """A variant's component names and its ``--set`` items, the base's first."""
    names = dict(spec.names)
    sets: list[str] = []
    for key, value in {**spec.base, **changes}.items():
        if key in NAME_KEYS and isinstance(value, str):
            names[key] = value
        else:
            sets.append(_as_set(key, value))
    return names, sets


def request_for(spec: SweepSpec, changes: dict[str, Any], seed: int) -> Any:
    from ganzoo.resolve import Request

    names, sets = _split(spec, changes)
    return Request(
        spec.arch, spec.dataset, spec.recipe, names.get("generator"), names.get("discriminator"),
        names.get("loss"), {"seed": seed}, tuple(sets),
    )  # fmt: skip


def train_command(spec: SweepSpec, changes: dict[str, Any], seed: int, out: Path, threads: int) -> list[str]:
    """The ``ganzoo train`` a trial runs (``--resume`` when its folder holds a checkpoint)."""
    ganzoo = [sys.executable, "-m", "ganzoo"]
    if (out / "checkpoint").is_dir() and (out / "config.json").is_file():
        return [*ganzoo, "train", "--resume", str(out), "--threads", str(threads), "-q", "--json"]
    names, sets = _split(spec, changes)
    cmd = [*ganzoo, "train", spec.arch, spec.dataset, "--seed", str(seed), "--out", str(out), "--force"]
    cmd += ["--threads", str(threads), "-q", "--json"]
    if spec.recipe:
        cmd += ["--recipe", spec.recipe]
    for kind in NAME_KEYS:
        if kind in names:
            cmd += [f"--{kind}", names[kind]]
    if spec.data_dir:
        cmd += ["--data-dir", spec.data_dir]
    if spec.eval_every:
        cmd += ["--eval-every", str(spec.eval_every)]
    for name in spec.tracker:
        cmd += ["--tracker", name]
    for item in sets:
        cmd += ["--set", item]
    return cmd


# -- the study ----------------------------------------------------------------------------------------
def storage_url(folder: Path, storage: str | None) -> str:
    return storage or f"sqlite:///{(folder / 'sweep.db').resolve()}"


def _shown(url: str) -> str:
    """A storage URL without its password."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest and ":" in rest.split("@", 1)[0]:
        user = rest.split("@", 1)[0].split(":", 1)[0]
        rest = f"{user}:***@{rest.split('@', 1)[1]}"
    return f"{scheme}{sep}{rest}"


def require_optuna() -> None:
    """One sentence when Optuna, which runs every sweep, is not installed."""
    import importlib.util

    if importlib.util.find_spec("optuna") is None:
        raise UsageError("ganzoo sweep runs on Optuna, which is not installed: pip install 'ganzoo[sweep]'.")


#: What a storage says when two workers created its tables at the same moment and this one lost:
#: a table that already exists, or the schema version row the other one wrote first (SQLite's and
#: PostgreSQL's words for a unique key already taken).
_RACE_SIGNS = ("already exists", "UNIQUE constraint failed", "duplicate key value")


def _lost_creation_race(exc: Exception) -> bool:
    return any(sign in str(exc) for sign in _RACE_SIGNS)


def open_storage(url: str) -> Any:
    """Optuna's storage at ``url``, or one sentence when it cannot be reached."""
    require_optuna()
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    engine = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else {"pool_pre_ping": True}
    for attempt in range(3):
        try:
            return optuna.storages.RDBStorage(url, engine_kwargs=engine)
        except Exception as exc:  # sqlalchemy's errors, a missing driver, a refused connection
            if _lost_creation_race(exc) and attempt < 2:
                time.sleep(1.0)  # two workers made the tables at once: the other one won
                continue
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise UsageError(f"cannot open the sweep storage {_shown(url)}: {first[:200]}") from exc
    raise AssertionError("unreachable")


def _sampler(spec: SweepSpec) -> Any:
    import optuna

    if spec.sampler == "random":
        return optuna.samplers.RandomSampler(seed=0)
    return optuna.samplers.TPESampler(seed=0)


def _pruner(spec: SweepSpec) -> Any:
    import optuna

    if spec.pruner == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=0)
    if spec.pruner == "halving":
        return optuna.pruners.SuccessiveHalvingPruner()
    return optuna.pruners.NopPruner()


def open_study(spec: SweepSpec, storage: Any) -> Any:
    """The sweep's study: created with every grid or list trial enqueued by the one worker that
    creates it; loaded by the others, who wait for it to be ready. A spec that changed is refused."""
    import optuna

    created = True
    try:
        study = optuna.create_study(
            storage=storage, study_name=spec.name, direction=spec.direction,  # type: ignore[arg-type]
            sampler=_sampler(spec), pruner=_pruner(spec),
        )  # fmt: skip
    except optuna.exceptions.DuplicatedStudyError:
        created = False
        study = optuna.load_study(
            storage=storage, study_name=spec.name, sampler=_sampler(spec), pruner=_pruner(spec)
        )
    if created:
        study.set_user_attr("spec", spec.fingerprint())
        study.set_user_attr("figure", spec.figure)
        study.set_user_attr("mode", spec.mode)
        study.set_user_attr("seeds", list(spec.seeds))
        if spec.mode != "search":
            for label in spec.variants:
                for seed in spec.seeds:
                    attrs = {"key": f"{label}|seed{seed}", "label": label, "seed": seed}
                    study.enqueue_trial({}, user_attrs=attrs, skip_if_exists=False)
        study.set_user_attr("ready", True)
    deadline = time.monotonic() + 60
    while not study.user_attrs.get("ready"):
        if time.monotonic() > deadline:
            raise UsageError(
                f"the sweep {spec.name} was created by a worker that never finished enqueuing it."
            )
        time.sleep(0.5)
        study = optuna.load_study(
            storage=storage, study_name=spec.name, sampler=_sampler(spec), pruner=_pruner(spec)
        )
    if study.user_attrs.get("spec") != spec.fingerprint():
        raise UsageError(
            f"the sweep {spec.name} in that storage was started from a different spec; give this one "
            'another name (name = "...") or its own folder.'
        )
    return study


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reclaim(study: Any) -> int:
    """Fail every running trial whose worker is gone and enqueue it again under its key (its run
    resumes from its checkpoint). The storage lets one worker finish a trial: only that one
    enqueues the retry. Returns how many were reclaimed."""
    from optuna.exceptions import UpdateFinishedTrialError
    from optuna.trial import TrialState

    host, now, count = socket.gethostname(), time.time(), 0
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        attrs = t.user_attrs
        beat = float(attrs.get("heartbeat", t.datetime_start.timestamp() if t.datetime_start else now))
        gone = attrs.get("host") == host and "pid" in attrs and not _alive(int(attrs["pid"]))
        if not gone and now - beat < STALE_S:
            continue
        try:
            if not study._storage.set_trial_state_values(t._trial_id, state=TrialState.FAIL):
                continue
        except UpdateFinishedTrialError:
            continue  # another worker reclaimed it first
        keep = {k: v for k, v in attrs.items() if k in ("key", "label", "seed", "changes")}
        study.enqueue_trial(t.params, user_attrs={**keep, "retry_of": t.number}, skip_if_exists=False)
        count += 1
    return count


def take(study: Any, spec: SweepSpec) -> Any | None:
    """The next trial for this worker, RUNNING and marked as its own; None when none is left."""
    import optuna
    from optuna.trial import TrialState

    storage = study._storage
    reclaim(study)
    for t in study.get_trials(deepcopy=False, states=(TrialState.WAITING,)):
        if storage.set_trial_state_values(t._trial_id, state=TrialState.RUNNING):
            trial = optuna.trial.Trial(study, t._trial_id)
            break
    else:
        if spec.mode != "search":
            return None
        counted = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING, TrialState.WAITING)
        if len(study.get_trials(deepcopy=False, states=counted)) >= spec.trials:
            return None
        trial = study.ask()
        changes = {k: s.suggest(trial, k) for k, s in spec.space.items()}
        trial.set_user_attr("key", f"trial{trial.number:04d}")
        trial.set_user_attr("label", _label(changes))
        trial.set_user_attr("changes", changes)
    trial.set_user_attr("host", socket.gethostname())
    trial.set_user_attr("pid", os.getpid())
    trial.set_user_attr("heartbeat", time.time())
    return trial


# -- running trials -----------------------------------------------------------------------------------
@dataclass
class Landed:
    """A trial that ended: its label, seed(s), state and figures."""

    number: int
    label: str
    state: str
    value: float | None
    figures: dict[str, Any]
    runs: list[str]


class Sweep:
    """Runs a spec's trials with ``workers`` threads of ``threads`` CPU threads each."""

    def __init__(
        self,
        spec: SweepSpec,
        folder: Path,
        storage: str | None = None,
        workers: int = 1,
        threads: int | None = None,
        on_landed: Callable[[Landed], None] = lambda landed: None,
    ) -> None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        if workers < 1:
            raise UsageError(f"--workers must be 1 or more, got {workers}.")
        threads = threads or max(1, cores // workers)
        if workers * threads > cores:
            raise UsageError(
                f"--workers {workers} × {threads} thread(s) each is more than this machine's {cores} "
                "cores: give fewer workers or --threads."
            )
        self.spec, self.folder, self.workers, self.threads = spec, folder.resolve(), workers, threads
        self.url = storage_url(folder, storage)
        self.on_landed = on_landed
        self.stopping = threading.Event()
        self.children: set[subprocess.Popen[str]] = set()
        self.lock = threading.Lock()
        self.study: Any = None

    def prepare(self) -> Any:
        """Check the spec, open (or join) the study, and write DIR/sweep.json; before any trial."""
        require_optuna()
        check(self.spec)
        local = self.url.startswith("sqlite")
        if local:
            self.folder.mkdir(parents=True, exist_ok=True)
        storage = open_storage(self.url)  # a server that cannot be reached: no folder is made
        self.folder.mkdir(parents=True, exist_ok=True)
        self.study = open_study(self.spec, storage)
        about = {"study": self.spec.name, "storage": _shown(self.url), "local": self.url.startswith("sqlite")}
        if about["local"]:
            about["storage"] = self.url
        atomic_write_text(self.folder / SWEEP_FILE, json.dumps(about, indent=1) + "\n")
        return self.study

    def run(self) -> None:
        """Run trials until none is left (or a stop was asked); trials in flight get SIGTERM on a stop."""
        if self.study is None:
            self.prepare()
        errors: list[BaseException] = []

        def work() -> None:
            try:
                while not self.stopping.is_set():
                    with self.lock:  # one worker of this process takes a trial at a time
                        trial = take(self.study, self.spec)
                    if trial is None:
                        return
                    self.run_trial(trial)
            except BaseException as exc:
                errors.append(exc)
                self.stop()

        threads = [threading.Thread(target=work, daemon=True) for _ in range(self.workers)]
        for t in threads:
            t.start()
        try:
            while any(t.is_alive() for t in threads):
                for t in threads:
                    t.join(timeout=0.5)
        except KeyboardInterrupt:
            self.stop()
            for t in threads:
                t.join()
            raise
        if errors:
            raise errors[0]

    def stop(self) -> None:
        self.stopping.set()
        with self.lock:
            for child in list(self.children):
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)

    def changes_of(self, trial: Any) -> dict[str, Any]:
        attrs = trial.user_attrs
        if "changes" in attrs:
            return dict(attrs["changes"])
        return dict(self.spec.variants[attrs["label"]])

    def run_trial(self, trial: Any) -> None:
        """A trial from start to end, its heartbeat written all along (its evaluation included)."""
        done = threading.Event()

        def beat() -> None:
            while not done.wait(HEARTBEAT_S):
                with contextlib.suppress(Exception):  # a storage hiccup: the next beat tries again
                    trial.set_user_attr("heartbeat", time.time())

        beating = threading.Thread(target=beat, daemon=True)
        beating.start()
        try:
            self._run_trial(trial)
        finally:
            done.set()
            beating.join()

    def _run_trial(self, trial: Any) -> None:
        from optuna.trial import TrialState

        attrs = trial.user_attrs
        changes = self.changes_of(trial)
        seeds = [int(attrs["seed"])] if "seed" in attrs else list(self.spec.seeds)
        values: list[float] = []
        figures: list[dict[str, Any]] = []
        runs: list[str] = []
        for i, seed in enumerate(seeds):
            name = f"{attrs['label']}-seed{seed}" if "seed" in attrs else f"{attrs['key']}-seed{seed}"
            out = self.folder / "trials" / _safe(name)
            runs.append(str(out))
            outcome = self.train(trial, changes, seed, out, report=i == 0)
            if outcome == "pruned":
                trial.set_user_attr("runs", runs)
                self.study.tell(trial, state=TrialState.PRUNED)
                self.land(trial, "pruned", None, {}, runs)
                return
            if outcome == "stopped":
                return  # left RUNNING: the next start reclaims it and resumes its run
            measured = {**self.evaluate(out), "train_s": _train_seconds(out)}
            figures.append(measured)
            value = measured.get(self.spec.figure)
            if not _number(value):
                trial.set_user_attr("runs", runs)
                trial.set_user_attr("failed", f"{self.spec.figure} is {value!r}")
                self.study.tell(trial, state=TrialState.FAIL)
                self.land(trial, "failed", None, measured, runs)
                return
            values.append(float(value))  # type: ignore[arg-type]
        mean = {k: statistics.fmean(f[k] for f in figures) for k in figures[0] if _number(figures[0][k])}
        trial.set_user_attr("figures", mean)
        trial.set_user_attr("runs", runs)
        self.study.tell(trial, statistics.fmean(values))
        self.land(trial, "complete", statistics.fmean(values), mean, runs)

    def land(
        self, trial: Any, state: str, value: float | None, figures: dict[str, Any], runs: list[str]
    ) -> None:
        landed = Landed(trial.number, str(trial.user_attrs.get("label")), state, value, figures, runs)
        line = {"trial": landed.number, "label": landed.label, "state": state, "value": value, "runs": runs}
        line.update({"seed": trial.user_attrs.get("seed"), "figures": figures})
        with self.lock, (self.folder / "results.jsonl").open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(line) + "\n")
        self.on_landed(landed)

    def train(self, trial: Any, changes: dict[str, Any], seed: int, out: Path, report: bool) -> str:
        """One run of the trial: "done", "pruned" or "stopped" (the sweep was asked to stop)."""
        from ganzoo.rundir import read_log

        cmd = train_command(self.spec, changes, seed, out, self.threads)
        if "--resume" in cmd:  # a trial a stopped worker left: its run goes on from its checkpoint
            from ganzoo.planning import checkpoint_step

            trial.set_user_attr("resumed_from", checkpoint_step(out / "checkpoint" / "state.safetensors"))
        env = {**os.environ, "OMP_NUM_THREADS": str(self.threads)}
        out.parent.mkdir(parents=True, exist_ok=True)
        log = (out.parent / f"{out.name}.log").open("a", encoding="utf-8")
        with log:
            child = subprocess.Popen(
                cmd, stdout=log, stderr=subprocess.STDOUT, env=env, text=True, preexec_fn=_die_with_parent
            )
            with self.lock:
                self.children.add(child)
            seen, pruned = 0, False
            while child.poll() is None:
                time.sleep(POLL_S)
                if not (report and self.spec.pruner) or pruned:
                    continue
                evals = [r for r in _eval_lines(out, read_log)]
                for r in evals[seen:]:
                    value = r["eval"].get(self.spec.figure)
                    if _number(value):
                        trial.report(float(value), int(r["step"]))
                        if trial.should_prune():
                            pruned = True
                            child.send_signal(signal.SIGTERM)
                            break
                seen = len(evals)
            with self.lock:
                self.children.discard(child)
        if pruned:
            return "pruned"
        if self.stopping.is_set():
            return "stopped"
        if child.returncode != 0:
            tail = (out.parent / f"{out.name}.log").read_text(encoding="utf-8", errors="replace")
            last = [ln for ln in tail.splitlines() if ln.strip()][-1:] or ["(no output)"]
            raise SweepError(
                f"the trial {trial.user_attrs.get('label')} (seed {seed}) failed: {last[0][:300]} "
                f"(its log: {out.parent / (out.name + '.log')})"
            )
        return "done"

    def evaluate(self, out: Path) -> dict[str, Any]:
        """``ganzoo eval`` of a finished trial run (its eval.json when it was measured the same way)."""
        kept = out / "eval.json"
        if kept.is_file():
            try:
                data = json.loads(kept.read_text(encoding="utf-8"))
                if data.get("protocol", {}).get("n") == self.spec.eval_n:
                    return dict(data["metrics"])
            except (ValueError, KeyError, AttributeError):
                pass
        cmd = [
            sys.executable,
            "-m",
            "ganzoo",
            "eval",
            str(out),
            "-n",
            str(self.spec.eval_n),
            "--seed",
            "0",
            "--json",
        ]
        if self.spec.data_dir:
            cmd += ["--data-dir", self.spec.data_dir]
        env = {**os.environ, "OMP_NUM_THREADS": str(self.threads)}
        done = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if done.returncode != 0:
            raise SweepError(f"`ganzoo eval {out}` failed: {done.stderr.strip()[-300:]}")
        return dict(json.loads(done.stdout)["metrics"])


def _train_seconds(out: Path) -> float:
    """How long a finished trial run trained (its record's result), resumes included."""
    try:
        return float(json.loads((out / "config.json").read_text(encoding="utf-8"))["result"]["seconds"])
    except (OSError, ValueError, KeyError, TypeError):
        return math.nan


def _die_with_parent() -> None:
    """In a trial's process: SIGTERM when the sweep's process dies, however it dies (Linux's
    PR_SET_PDEATHSIG), so a killed sweep leaves no trial training on, its checkpoint written."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1: PR_SET_PDEATHSIG


def _eval_lines(out: Path, read_log: Any) -> Iterator[dict[str, Any]]:
    path = out / "metrics.jsonl"
    if not path.is_file():
        return iter(())
    return (r for r in read_log(path) if isinstance(r.get("eval"), dict))


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _safe(name: str) -> str:
    """A folder name for a label: settings' punctuation kept where a path allows it."""
    return "".join(c if c.isalnum() or c in "-_.=," else "_" for c in name)[:150]


# -- the result ---------------------------------------------------------------------------------------
def result(study: Any) -> dict[str, Any]:
    """The sweep's table: one row a variant (mean ± standard deviation of the ranking figure over its
    seeds, the other figures' means, how many trials completed, were pruned or still run), best marked."""
    from optuna.trial import TrialState

    figure = study.user_attrs.get("figure", "value")
    direction = "minimize" if study.direction.name == "MINIMIZE" else "maximize"
    rows: dict[str, dict[str, Any]] = {}
    for t in study.get_trials(deepcopy=False):
        label = t.user_attrs.get("label")
        if label is None or (t.state == TrialState.FAIL and "failed" not in t.user_attrs):
            continue  # not a trial of ours, or one a worker left behind (enqueued again)
        row = rows.setdefault(label, {"label": label, "values": [], "figures": [], "runs": []})
        row.setdefault("pruned", 0), row.setdefault("running", 0), row.setdefault("failed", 0)
        if t.state == TrialState.COMPLETE and t.value is not None:
            row["values"].append(t.value)
            row["figures"].append(t.user_attrs.get("figures", {}))
            row["runs"] += t.user_attrs.get("runs", [])
        elif t.state == TrialState.PRUNED:
            row["pruned"] += 1
        elif t.state in (TrialState.RUNNING, TrialState.WAITING):
            row["running"] += 1
        elif t.state == TrialState.FAIL:
            row["failed"] += 1
        if "changes" in t.user_attrs:
            row["changes"] = t.user_attrs["changes"]
    table = []
    for row in rows.values():
        values = row.pop("values")
        figures = row.pop("figures")
        row["n"] = len(values)
        row["mean"] = statistics.fmean(values) if values else None
        row["std"] = statistics.stdev(values) if len(values) > 1 else (0.0 if values else None)
        keys = sorted({k for f in figures for k in f})
        row["figures"] = {k: statistics.fmean(f[k] for f in figures if k in f) for k in keys}
        table.append(row)
    done = [r for r in table if r["mean"] is not None]
    best = (min if direction == "minimize" else max)(done, key=lambda r: r["mean"]) if done else None
    for r in table:
        r["best"] = r is best
    table.sort(key=lambda r: (r["mean"] is None, r["mean"] if direction == "minimize" else -(r["mean"] or 0)))
    return {"study": study.study_name, "figure": figure, "direction": direction, "rows": table}


def load(target: str, study_name: str | None = None) -> Any:
    """The study of a sweep folder (its sweep.json) or of a storage URL (``--study`` names one of
    several)."""
    require_optuna()
    import optuna

    path = Path(target)
    if "://" not in target:
        about_file = path / SWEEP_FILE
        if not about_file.is_file():
            raise UsageError(
                f"{target} is not a sweep folder (no {SWEEP_FILE}); give the folder or a storage URL."
            )
        about = json.loads(about_file.read_text(encoding="utf-8"))
        if not about.get("local"):
            raise UsageError(
                f"the sweep in {target} lives in {about['storage']}: give that URL (with its password) "
                "to show it."
            )
        url, study_name = about["storage"], study_name or about["study"]
    else:
        url = target
    storage = open_storage(url)
    names = [s.study_name for s in optuna.get_all_study_summaries(storage, include_best_trial=False)]
    if study_name is None:
        if len(names) != 1:
            raise UsageError(
                f"{_shown(url)} holds {len(names)} sweeps ({', '.join(names) or 'none'}): "
                "name one with --study."
            )
        study_name = names[0]
    if study_name not in names:
        raise UsageError(
            f"{_shown(url)} holds no sweep named {study_name}; it holds {', '.join(names) or 'none'}."
        )
    return optuna.load_study(storage=storage, study_name=study_name)
