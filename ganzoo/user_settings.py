"""The user's own defaults: the settings file and the folders it names.

The settings file is ``$GANZOO_HOME/config.toml`` when ``GANZOO_HOME`` is set, else
``$XDG_CONFIG_HOME/ganzoo/config.toml`` (``~/.config/ganzoo/config.toml``)::

    [train]            # any training setting, the default for every new `ganzoo train`
    device = "cuda"
    precision = "bf16"

    [paths]
    data = "~/datasets"   # where dataset files are, as GANZOO_DATA
    runs = "~/gan-runs"   # where new run directories go

Where it stands among the other layers of settings: :func:`ganzoo.settings.layered`.
"""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path
from typing import Any

from ganzoo import env
from ganzoo.errors import UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SECTIONS = {"train", "paths"}
PATHS = {"data", "runs"}


def path() -> Path:
    """Where the user's settings file is (it need not exist)."""
    home = env.HOME.path()
    if home is not None:
        return home / "config.toml"
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base).expanduser() / "ganzoo" / "config.toml"


def load() -> dict[str, Any]:
    """The settings file as a dict ({} when there is none); a broken one is one sentence.

    Read once per version of the file: one run asks for its defaults, data folder and runs folder.
    """
    where = path()
    try:
        stat = where.stat()
    except OSError:
        return {}
    return _parse(where, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=4)
def _parse(where: Path, mtime_ns: int, size: int) -> dict[str, Any]:
    try:
        doc = tomllib.loads(where.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"The ganzoo settings file {where} is not valid TOML: {exc}.") from exc
    unknown = sorted(set(doc) - SECTIONS)
    if unknown:
        # `data = [1]` at the top is a key, not a table: say what the user wrote.
        what = f"table [{unknown[0]}]" if isinstance(doc[unknown[0]], dict) else f"key '{unknown[0]}'"
        raise UsageError(
            f"The ganzoo settings file {where} has an unknown {what}; "
            "it knows the tables [train] and [paths]."
        )
    for section in SECTIONS:
        if not isinstance(doc.get(section, {}), dict):
            raise UsageError(f"The ganzoo settings file {where}: '{section}' must be a table [{section}].")
    from ganzoo import settings

    for key, value in doc.get("train", {}).items():
        if key not in settings.TRAIN_KEYS:
            raise UsageError(
                f"The ganzoo settings file {where}: [train] key '{key}' is not a training setting."
            )
        try:
            settings.check(key, value, shown=key)
        except UsageError as exc:
            raise UsageError(f"The ganzoo settings file {where}: [train] {exc}") from exc
    for key, value in doc.get("paths", {}).items():
        if key not in PATHS:
            raise UsageError(
                f"The ganzoo settings file {where}: [paths] key '{key}' is not one of data, runs."
            )
        if not isinstance(value, str):
            raise UsageError(
                f"The ganzoo settings file {where}: [paths] {key} must be a folder, got {value!r}."
            )
    return doc


def train() -> dict[str, Any]:
    """The settings file's [train] table: defaults for every new run, above the recipe."""
    return dict(load().get("train", {}))


def data_dir() -> Path | None:
    """The settings file's [paths] data folder, if it names one."""
    value = load().get("paths", {}).get("data")
    return Path(value).expanduser() if value else None


def runs_root() -> Path:
    """Where new run directories go: $GANZOO_HOME/runs, the file's [paths] runs, or ./runs."""
    home = env.HOME.path()
    if home is not None:
        return home / "runs"
    value = load().get("paths", {}).get("runs")
    return Path(value).expanduser() if value else Path("runs")
