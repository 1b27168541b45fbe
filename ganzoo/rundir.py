"""The run directory: its name, its files, and reading one back."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ganzoo.errors import RunDirError, UsageError
from ganzoo.files import atomic_write_text

CONFIG = "config.json"
GENERATOR = "generator.safetensors"
GENERATOR_EMA = "generator-ema.safetensors"
DISCRIMINATOR = "discriminator.safetensors"
CHECKPOINT_DIR = "checkpoint"
METRICS = "metrics.jsonl"
SAMPLES = "samples"
LOSSES = "losses.png"
TENSORBOARD = "tensorboard"  # with --tensorboard: `tensorboard --logdir RUN/tensorboard`
PROGRESS = "samples/progress.gif"  # the sample grids over training, one frame each


def read_metrics(path: Path) -> list[dict[str, Any]]:
    """metrics.jsonl as dicts, one per logged step or evaluation; [] when there is none yet.

    A line cut short by a kill (the last one) is skipped, as resume would drop it.
    """
    rows = []
    if Path(path).is_file():
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            try:
                rows.append(json.loads(line))
            except ValueError:
                continue
    return rows


def default_run_dir(root: Path, arch: str, dataset: str) -> Path:
    """``root/<arch>-<dataset>-<YYYYmmdd-HHMMSS>``, with a suffix if that second is taken."""
    base = root / f"{arch.replace(':', '-')}-{dataset.replace(':', '-')}-{time.strftime('%Y%m%d-%H%M%S')}"
    path, n = base, 2
    while path.exists():
        path, n = Path(f"{base}-{n}"), n + 1
    return path


def check_new_run_dir(path: Path, force: bool) -> None:
    """Refuse to write into an existing non-empty directory unless ``force``."""
    if path.exists() and not path.is_dir():
        raise UsageError(f"--out {path} exists and is not a directory.")
    if path.is_dir() and any(path.iterdir()) and not force:
        raise UsageError(f"--out {path} already exists and is not empty; choose another, or add --force.")


def write_json(path: Path, data: dict[str, Any]) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=False) + "\n")


@dataclass
class RunDir:
    """An existing run directory and the config it was made with."""

    path: Path
    config: dict[str, Any]

    @classmethod
    def open(cls, path: Path) -> RunDir:
        path = Path(path)
        if not path.is_dir():
            raise RunDirError(f"{path} is not a run directory (it does not exist or is not a folder).")
        config_path = path / CONFIG
        if not config_path.is_file():
            raise RunDirError(f"{path} is not a ganzoo run directory: it has no {CONFIG}.")
        try:
            config = json.loads(config_path.read_text(encoding="utf-8"))
            config["run"]["generator"]
        except (ValueError, KeyError, TypeError) as exc:
            raise RunDirError(f"{config_path} is damaged or not a ganzoo run config.") from exc
        return cls(path, config)

    def weights(self, role: str = "generator") -> Path:
        """The final weights if present, else a clear error."""
        path = self.path / (GENERATOR if role == "generator" else DISCRIMINATOR)
        if not path.is_file():
            raise RunDirError(
                f"{self.path} has no {path.name} yet (training has not finished); "
                f"resume it with `ganzoo train --resume {self.path}`."
            )
        return path
