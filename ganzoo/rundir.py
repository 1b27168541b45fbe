"""A run directory: its files, its record (config.json) and its log (metrics.jsonl).

:class:`Run` is the one type for a run, new or old: ``ganzoo.train`` returns one and
``ganzoo show`` reads one; its config.json holds a :class:`ganzoo.record.RunRecord`. Light: no torch.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ganzoo.errors import RunDirError, UsageError
from ganzoo.files import atomic_write_bytes, atomic_write_text
from ganzoo.record import RunRecord, RunResult

if TYPE_CHECKING:
    from ganzoo.loaded import LoadedGenerator

CONFIG = "config.json"
GENERATOR = "generator.safetensors"
GENERATOR_EMA = "generator-ema.safetensors"
DISCRIMINATOR = "discriminator.safetensors"
CHECKPOINT_DIR = "checkpoint"
CHECKPOINT = "checkpoint/state.safetensors"
LOG = "metrics.jsonl"  # the run's log: one JSON object per logged step or evaluation
SAMPLES = "samples"
LOSSES = "losses.png"
TENSORBOARD = "tensorboard"  # with --tensorboard: `tensorboard --logdir RUN/tensorboard`
ANIMATION = "samples/progress.gif"  # the sample grids over training, one frame each
EVAL = "eval.json"  # the last `ganzoo eval RUN`: its figures, protocol and the step it measured
#: A hub folder (`ganzoo export --format hub`): a generator to share, not a run.
HUB_MODEL = "model.safetensors"
HUB_CONFIG = "config.json"


def is_hub_folder(path: Path) -> bool:
    """Whether ``path`` is a folder ``ganzoo export --format hub`` wrote."""
    return Path(path).is_dir() and (Path(path) / HUB_MODEL).is_file()


def read_log(path: Path) -> list[dict[str, Any]]:
    """metrics.jsonl as dicts, one per logged step or evaluation; [] when there is none yet.

    A line that is not a JSON object with a numeric ``step`` is skipped: the last one cut short
    by a kill (as resume drops it), and any damaged one (bytes that are not UTF-8, a flipped bit).
    The log only describes a run, so a damaged line is never a reason to refuse one; ``ganzoo
    show`` says how many it skipped (:func:`read_log_counted`).
    """
    return read_log_counted(path)[0]


def read_log_counted(path: Path) -> tuple[list[dict[str, Any]], int]:
    """:func:`read_log`'s rows, and how many damaged lines it skipped (a last line cut short not counted)."""
    try:
        data = Path(path).read_bytes()
    except OSError:  # no log yet, or not a file: nothing logged
        return [], 0
    lines = data.split(b"\n")
    rows, skipped = [], 0
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        row = _log_row(line)
        if row is not None:
            rows.append(row)
        elif i < len(lines) - 1:  # the last line without its newline was cut by a kill, not damaged
            skipped += 1
    return rows, skipped


def _log_row(line: bytes) -> dict[str, Any] | None:
    """One line of the log as a dict, or None when it is not one ganzoo could have written."""
    try:
        row = json.loads(line.decode("utf-8"))
    except ValueError:  # UnicodeDecodeError is a ValueError too
        return None
    if not isinstance(row, dict):
        return None
    step = row.get("step")
    if not isinstance(step, (int, float)) or isinstance(step, bool) or not math.isfinite(step):
        return None  # json reads NaN and Infinity too
    return row


def trim_log(path: Path, step: int) -> None:
    """Keep the log's lines up to ``step`` (a resume logs the later steps again), atomically.

    Lines that are damaged or cut short by a kill are dropped with them, so a resumed run's log
    is whole again; the file is replaced, never left half-written.
    """
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return
    keep = [ln for ln in data.split(b"\n") if (row := _log_row(ln)) is not None and row["step"] <= step]
    atomic_write_bytes(Path(path), b"".join(ln + b"\n" for ln in keep))


def write_json(path: Path, data: dict[str, Any]) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=False) + "\n")


class Run:
    """A run directory, finished or not: where it lives, its record and its files.

    ``Run(path)`` names a folder (which need not exist yet); :meth:`open` checks that it is a run.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._record: RunRecord | None = None

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Run) and other.path == self.path

    def __hash__(self) -> int:
        return hash(self.path)

    @classmethod
    def open(cls, path: Path) -> Run:
        """An existing run directory, with a readable record; a clear error otherwise."""
        run = cls(path)
        if not run.path.is_dir():
            raise RunDirError(f"{run.path} is not a run directory (it does not exist or is not a folder).")
        if not run.file(CONFIG).is_file():
            raise RunDirError(f"{run.path} is not a ganzoo run directory: it has no {CONFIG}.")
        run.record  # noqa: B018 (read and checked now)
        return run

    @staticmethod
    def default_path(root: Path, arch: str, dataset: str) -> Path:
        """``root/<arch>-<dataset>-<YYYYmmdd-HHMMSS>``, with a suffix if that second is taken."""
        stamp = time.strftime("%Y%m%d-%H%M%S")
        base = root / f"{arch.replace(':', '-')}-{dataset.replace(':', '-')}-{stamp}"
        path, n = base, 2
        while path.exists():
            path, n = Path(f"{base}-{n}"), n + 1
        return path

    def check_new(self, force: bool) -> None:
        """Refuse to start a run in an existing non-empty directory unless ``force``."""
        if self.path.exists() and not self.path.is_dir():
            raise UsageError(f"--out {self.path} exists and is not a directory.")
        if self.path.is_dir() and any(self.path.iterdir()) and not force:
            if self.file(CONFIG).is_file() and not self.file(CHECKPOINT).exists():
                # A run killed (SIGKILL, a power cut) before its first checkpoint: nothing to resume.
                raise UsageError(
                    f"--out {self.path} holds a run that stopped before its first checkpoint, so it "
                    "cannot be resumed; add --force to start over in it, or choose another folder."
                )
            raise UsageError(
                f"--out {self.path} already exists and is not empty; choose another, or add --force."
            )

    # -- files -------------------------------------------------------------------------------
    def file(self, name: str) -> Path:
        """A file of the run by its name in this module (``run.file(LOG)``)."""
        return self.path / name

    def clean_temporary(self) -> None:
        """Remove the temporary files (".NAME.XXXX.tmp") a kill during an atomic write leaves."""
        for folder in (self.path, self.file(CHECKPOINT_DIR), self.file(SAMPLES)):
            for stale in folder.glob(".*.tmp"):
                stale.unlink()

    @property
    def run_dir(self) -> Path:
        """The folder (``ganzoo.train(...).run_dir``)."""
        return self.path

    def weights(self, role: str = "generator") -> Path:
        """The final weights of ``role`` if training has finished, else a clear error."""
        path = self.file(GENERATOR if role == "generator" else DISCRIMINATOR)
        if not path.is_file():
            raise RunDirError(
                f"{self.path} has no {path.name} yet (training has not finished); "
                f"resume it with `ganzoo train --resume {self.path}`."
            )
        return path

    # -- the record and the log -------------------------------------------------------------------
    @property
    def record(self) -> RunRecord:
        """config.json, typed (read once; :meth:`write_record` replaces it)."""
        if self._record is None:
            path = self.file(CONFIG)
            # One sentence naming the file and the first bad key: a hand edit or a flipped bit in a
            # value is told here, not as a failure deep in training or sampling.
            where = f"{path} is damaged or not a ganzoo run config"
            self._record = RunRecord.from_json(self._config_json(), where=where)
        return self._record

    def _config_json(self) -> Any:
        path = self.file(CONFIG)
        try:
            return json.loads(path.read_bytes().decode("utf-8"))
        except OSError as exc:
            raise RunDirError(f"{path} cannot be read: {exc.strerror or exc}.") from exc
        except ValueError as exc:  # not UTF-8, or not JSON: cut short, a flipped bit, another file
            raise RunDirError(f"{path} is damaged or not a ganzoo run config: it is not JSON.") from exc

    def write_record(self, record: RunRecord) -> None:
        write_json(self.file(CONFIG), record.to_json())
        self._record = record

    @property
    def config(self) -> dict[str, Any]:
        """config.json as a dict: the resolved configuration, seed, data, versions and result."""
        self.record  # noqa: B018 (a damaged config.json is one sentence, not a traceback later)
        doc: dict[str, Any] = self._config_json()
        return doc

    def metrics(self) -> list[dict[str, Any]]:
        """metrics.jsonl, one dict per logged step (and per evaluation)."""
        return read_log(self.file(LOG))

    @property
    def result(self) -> RunResult | None:
        return self.record.result

    @property
    def steps(self) -> int:
        """Iterations done: the result's when finished, else the last logged step."""
        if self.result is not None:
            return self.result.steps
        logged = [r for r in self.metrics() if "g_loss" in r]
        return int(logged[-1]["step"]) if logged else 0

    @property
    def seconds(self) -> float:
        return self.result.seconds if self.result is not None else 0.0

    @property
    def last(self) -> dict[str, float]:
        """The last logged figures."""
        if self.result is not None:
            return self.result.last
        logged = [r for r in self.metrics() if "g_loss" in r]
        return {k: v for k, v in logged[-1].items() if k != "step"} if logged else {}

    def load_generator(self, device: str = "cpu", ema: bool = True, manager: Any = None) -> LoadedGenerator:
        """The trained generator, ready to ``.sample(n, seed=...)`` (its moving average if kept)."""
        from ganzoo.loaded import from_file

        path, averaged = self.weights("generator"), self.file(GENERATOR_EMA)
        if ema and averaged.is_file():
            return from_file(averaged, device=device, manager=manager, ema=True)
        return from_file(path, device=device, manager=manager)


def hub_averaged(doc: dict[str, Any]) -> bool:
    """Whether a hub folder's weights are G's moving average: its config's ``averaged`` field (since
    ganzoo 0.3), else its description of the weights (the folders written before)."""
    if isinstance(doc.get("averaged"), bool):
        return bool(doc["averaged"])
    return "moving average" in str(doc.get("weights", ""))


def load_generator(
    path: str | Path, device: str = "cpu", manager: Any = None, ema: bool = True
) -> LoadedGenerator:
    """Rebuild the generator of a run directory, a hub folder, a generator.safetensors file or a
    pretrained generator's name (``ganzoo list pretrained``; an existing path wins) (with
    ``manager``'s plugins: by default, the installed ones); weights that are not finite are refused.

    A run trained with ``--ema`` samples from its moving-average weights unless ``ema`` is False.
    """
    from ganzoo.loaded import from_file
    from ganzoo.pretrained import resolve

    path = resolve(path, manager)
    if is_hub_folder(path):  # `ganzoo export --format hub`: its one generator, no run around it
        try:
            doc = json.loads((path / HUB_CONFIG).read_text())
            averaged = hub_averaged(doc)
        except (OSError, ValueError, AttributeError):
            averaged = False
        g = from_file(path / HUB_MODEL, device=device, manager=manager, ema=averaged)
    elif path.is_dir():
        if not (path / GENERATOR).is_file() and not (path / CONFIG).is_file():
            raise RunDirError(f"{path} is not a ganzoo run directory: it has no {GENERATOR}.")
        g = Run.open(path).load_generator(device=device, ema=ema, manager=manager)
    else:
        g = from_file(path, device=device, manager=manager, ema=path.name == GENERATOR_EMA)
    _check_finite(g, path)
    return g


def _check_finite(g: LoadedGenerator, path: Path) -> None:
    """Refuse weights that are NaN or infinite: they can only draw blank or garbage samples."""
    bad = [
        name for name, t in g.module.state_dict().items() if t.is_floating_point() and not t.isfinite().all()
    ]
    if bad:
        raise RunDirError(
            f"{path} holds a generator whose weights are NaN or infinite ({len(bad)} of its tensors, "
            f"{bad[0]} first), so it cannot sample; resume or retrain the run from a good checkpoint."
        )
