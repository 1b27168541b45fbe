"""The user's own defaults: environment variables and a config file.

Precedence, highest first: the command line (options and ``--set``), environment variables,
the user config file, the recipe, the components' own defaults.

- ``GANZOO_DEVICE``: the device for ``train``, ``generate`` and ``eval`` (like ``--device``).
- ``GANZOO_DATA``: the folder holding dataset files (like ``--data-dir``).
- ``GANZOO_HOME``: ganzoo's home folder: the config file is ``$GANZOO_HOME/config.toml`` and new
  runs go to ``$GANZOO_HOME/runs``. Without it the config file is
  ``$XDG_CONFIG_HOME/ganzoo/config.toml`` (``~/.config/ganzoo/config.toml``) and runs go to
  ``./runs``.

The config file::

    [train]            # any training setting, the default for every new `ganzoo train`
    device = "cuda"
    precision = "bf16"

    [paths]
    data = "~/datasets"   # where dataset files are, as GANZOO_DATA
    runs = "~/gan-runs"   # where new run directories go
"""

from __future__ import annotations

import functools
import os
import sys
from dataclasses import fields
from pathlib import Path
from typing import Any

from ganzoo.errors import UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ENV_HOME = "GANZOO_HOME"
ENV_DEVICE = "GANZOO_DEVICE"
SECTIONS = {"train", "paths"}
PATHS = {"data", "runs"}


def config_path() -> Path:
    """Where the user config file is (it need not exist)."""
    home = os.environ.get(ENV_HOME)
    if home:
        return Path(home).expanduser() / "config.toml"
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base).expanduser() / "ganzoo" / "config.toml"


def load_config() -> dict[str, Any]:
    """The user config file as a dict ({} when there is none); a broken one is one sentence.

    Read once per version of the file: one run asks for its defaults, data folder and runs folder.
    """
    path = config_path()
    try:
        stat = path.stat()
    except OSError:
        return {}
    return _parse(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=4)
def _parse(path: Path, mtime_ns: int, size: int) -> dict[str, Any]:
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"The ganzoo config file {path} is not valid TOML: {exc}.") from exc
    unknown = sorted(set(doc) - SECTIONS)
    if unknown:
        raise UsageError(
            f"The ganzoo config file {path} has an unknown table [{unknown[0]}]; "
            "it knows [train] and [paths]."
        )
    from ganzoo.recipes import TrainSettings

    known = {f.name for f in fields(TrainSettings)}
    bad = sorted(set(doc.get("train", {})) - known)
    if bad:
        raise UsageError(f"The ganzoo config file {path}: [train] key '{bad[0]}' is not a training setting.")
    bad = sorted(set(doc.get("paths", {})) - PATHS)
    if bad:
        raise UsageError(f"The ganzoo config file {path}: [paths] key '{bad[0]}' is not one of data, runs.")
    return doc


def train_defaults() -> dict[str, Any]:
    """The config file's [train] table: defaults for every new run, above the recipe."""
    return dict(load_config().get("train", {}))


def data_dir() -> Path | None:
    """The config file's [paths] data folder, if it names one."""
    value = load_config().get("paths", {}).get("data")
    return Path(value).expanduser() if value else None


def runs_root() -> Path:
    """Where new run directories go: $GANZOO_HOME/runs, the config's [paths] runs, or ./runs."""
    home = os.environ.get(ENV_HOME)
    if home:
        return Path(home).expanduser() / "runs"
    value = load_config().get("paths", {}).get("runs")
    return Path(value).expanduser() if value else Path("runs")
