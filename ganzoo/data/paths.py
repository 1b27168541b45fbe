"""Where dataset files are looked for and kept: the user's data folder and ganzoo's cache."""

from __future__ import annotations

import os
from pathlib import Path

from ganzoo import env


def cache_root() -> Path:
    """Where fetched data lives: ``$GANZOO_CACHE``, ``$XDG_CACHE_HOME/ganzoo`` or ``~/.cache/ganzoo``."""
    if (path := env.CACHE.path()) is not None:
        return path
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    # The XDG spec says a relative XDG_CACHE_HOME is invalid and must be ignored.
    base = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "ganzoo"


def cache_dir(name: str) -> Path:
    """The cache folder of one dataset."""
    return cache_root() / name


def user_data_dir(explicit: Path | None = None) -> Path | None:
    """The folder the user named for data files: ``--data-dir``, ``$GANZOO_DATA``, or the settings file's."""
    if explicit is not None:
        return Path(explicit).expanduser()
    if (path := env.DATA.path()) is not None:
        return path
    from ganzoo import user_settings

    return user_settings.data_dir()


def offline() -> bool:
    """Whether ``GANZOO_OFFLINE`` forbids downloads (mirrors and the package index alike)."""
    return env.OFFLINE.flag()
