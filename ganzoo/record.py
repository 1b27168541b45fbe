"""The record of a run that its config.json holds, and how a run ended. Light: no torch."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ganzoo.dataspec import DataSpec
from ganzoo.settings import RunConfig


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
        return cls(int(d["steps"]), float(d["seconds"]), dict(d.get("last", {})), d.get("eval"))


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

    def to_json(self) -> dict[str, Any]:
        doc = {k: v for k, v in asdict(self).items() if k not in ("config", "data", "result")}
        doc = {"run": self.config.to_json(), **doc, "data": self.data.to_json()}
        if self.result is not None:
            doc["result"] = self.result.to_json()
        return doc

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> RunRecord:
        """Read a record, older ones included (fields added since default)."""
        config = RunConfig.from_json(d["run"])
        return cls(
            config=config,
            seed=int(d["seed"]),
            device=str(d.get("device", "cpu")),
            world_size=int(d.get("world_size", 1)),
            data=DataSpec.from_json(d["data"]),
            data_size=int(d.get("data_size", 0)),
            data_dir=d.get("data_dir"),
            components=dict(d.get("components", {})),
            versions=dict(d.get("versions", {})),
            created=str(d.get("created", "")),
            run_dir=str(d.get("run_dir", "")),
            iterations=int(d.get("iterations", config.train.iterations)),
            result=RunResult.from_json(d["result"]) if d.get("result") else None,
            resumes=list(d.get("resumes", [])),
            cpu_threads=dict(d.get("cpu_threads", {})),
        )
