"""The record of a run that its config.json holds, and how a run ended. Light: no torch."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from ganzoo.dataspec import DataSpec
from ganzoo.errors import RunDirError
from ganzoo.settings import RunConfig

_ABSENT = object()


def _whole(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _text(v: Any) -> bool:
    return isinstance(v, str)


def _field(
    d: dict[str, Any], key: str, ok: Callable[[Any], bool], what: str, where: str = "", default: Any = _ABSENT
) -> Any:
    """``d[key]`` when ``ok`` accepts it; a ValueError naming the key otherwise (``default`` when absent)."""
    if key not in d:
        if default is _ABSENT:
            raise ValueError(f"{where}{key} is missing")
        return default
    if not ok(d[key]):
        raise ValueError(f"{where}{key} must be {what}, got {d[key]!r:.60}")
    return d[key]


def _object(d: Any, where: str) -> dict[str, Any]:
    if not isinstance(d, dict):
        raise ValueError(f"{where} must be a JSON object, got {d!r:.60}")
    return d


@dataclass
class RunResult:
    """How a run ended: what the training loop returns and config.json's ``result`` records."""

    steps: int
    seconds: float
    last: dict[str, float] = field(default_factory=dict)  # the last logged figures
    eval: dict[str, Any] | None = None  # the last --eval-every figures

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "steps": self.steps,
            "seconds": round(self.seconds, 3),
            "last": {k: round(v, 6) for k, v in self.last.items()},
        }
        if self.eval is not None:
            out["eval"] = self.eval
        return out

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> RunResult:
        """config.json's ``result``; a ValueError naming the first bad key (``result.steps is missing``)."""
        d = _object(d, "result")
        last = _field(d, "last", lambda v: isinstance(v, dict), "a JSON object", "result.", {})
        if not all(_number(v) for v in last.values()):
            raise ValueError("result.last must map each figure to a number")
        return cls(
            _field(d, "steps", lambda v: _whole(v) and v >= 0, "a whole number", "result."),
            float(_field(d, "seconds", _number, "a number", "result.")),
            dict(last),
            _field(d, "eval", lambda v: v is None or isinstance(v, dict), "a JSON object", "result.", None),
        )


@dataclass
class RunRecord:
    """What config.json holds: everything needed to rebuild, resume and describe a run."""

    config: RunConfig  # config.json's "run": components, hyperparameters, training settings
    seed: int
    device: str
    world_size: int
    data: DataSpec
    data_size: int
    data_dir: str | None
    components: dict[str, str]  # kind → DIST:NAME of the component that trained
    versions: dict[str, Any]
    created: str
    run_dir: str
    iterations: int
    result: RunResult | None = None
    # One entry per resume that changed a setting: {"step", "at", "changed": {key: [old, new]}}.
    resumes: list[dict[str, Any]] = field(default_factory=list)
    # How the CPU threads ran: their number and OpenMP's wait policy (ganzoo.threads), at the start.
    cpu_threads: dict[str, Any] = field(default_factory=dict)
    # The data was too large to hold and streamed from disk: a resume draws fresh batches, so it
    # continues repeatably but not bit for bit as the run would have gone on.
    streamed: bool = False
    # Fine-tuning (--init): where G and D started from: {"from": what was asked for, "path": the
    # folder, "generator": its file, "discriminator": its file or None}; None for a run from scratch.
    init: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        doc = {k: v for k, v in asdict(self).items() if k not in ("config", "data", "result")}
        doc = {"run": self.config.to_json(), **doc, "data": self.data.to_json()}
        if self.result is not None:
            doc["result"] = self.result.to_json()
        return doc

    @classmethod
    def from_json(cls, d: dict[str, Any], where: str | None = None) -> RunRecord:
        """Read a record, older ones included (fields added since default), checked key by key.

        A damaged or hand-edited record is a :class:`RunDirError` in one sentence: ``where``
        (which names the file: "RUN/config.json is damaged or not a ganzoo run config"), then
        the first bad key ("run.train.batch_size must be a positive whole number, got 'x'").
        """
        try:
            return cls._from_json(d)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:  # the last three: a bug's safety net
            clause = str(exc) if type(exc) is ValueError else f"it is not a ganzoo run record ({exc!r:.80})"
            raise RunDirError(f"{where or 'A run record is damaged'}: {clause}.") from exc

    @classmethod
    def _from_json(cls, d: Any) -> RunRecord:
        d = _object(d, "the record")
        config = RunConfig.from_json(_field(d, "run", lambda v: True, ""))
        data = _object(_field(d, "data", lambda v: True, ""), "data")
        shape = _field(data, "shape", lambda v: isinstance(v, list) and v != [], "a list of sizes", "data.")
        if not all(_whole(n) and n > 0 for n in shape):
            raise ValueError(f"data.shape must be a list of positive sizes, got {shape!r:.60}")
        span = _field(data, "value_range", lambda v: isinstance(v, list), "two numbers", "data.")
        if len(span) != 2 or not all(_number(v) for v in span):
            raise ValueError(f"data.value_range must be two numbers, got {span!r:.60}")
        if not _text(data.get("modality", data.get("kind"))):
            raise ValueError("data.modality must be image or sequence")
        result = d.get("result")
        return cls(
            config=config,
            seed=_field(d, "seed", _whole, "a whole number"),
            device=_field(d, "device", _text, "a device's name", default="cpu"),
            world_size=_field(
                d, "world_size", lambda v: _whole(v) and v >= 1, "a positive whole number", default=1
            ),
            data=DataSpec.from_json(data),
            data_size=_field(d, "data_size", lambda v: _whole(v) and v >= 0, "a whole number", default=0),
            data_dir=_field(d, "data_dir", lambda v: v is None or _text(v), "a folder", default=None),
            components=dict(
                _field(d, "components", lambda v: isinstance(v, dict), "a JSON object", default={})
            ),
            versions=dict(_field(d, "versions", lambda v: isinstance(v, dict), "a JSON object", default={})),
            created=_field(d, "created", _text, "a date", default=""),
            run_dir=_field(d, "run_dir", _text, "a folder", default=""),
            iterations=_field(
                d,
                "iterations",
                lambda v: _whole(v) and v >= 1,
                "a positive whole number",
                default=config.train.iterations,
            ),
            result=RunResult.from_json(result) if result else None,
            resumes=list(_field(d, "resumes", lambda v: isinstance(v, list), "a list", default=[])),
            cpu_threads=dict(
                _field(d, "cpu_threads", lambda v: isinstance(v, dict), "a JSON object", default={})
            ),
            streamed=_field(d, "streamed", lambda v: isinstance(v, bool), "true or false", default=False),
            init=_field(d, "init", lambda v: v is None or isinstance(v, dict), "a JSON object", default=None),
        )
