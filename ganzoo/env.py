"""Every environment variable ganzoo reads, declared once: its name, what it does, how it is read.

Code reads a variable through its :class:`Variable` here, never through ``os.environ`` with a
spelled-out name, so this table is the whole list (docs/guide.md documents each one, and the
test suite's fixtures clear every one of them).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Variable:
    """One ``GANZOO_*`` environment variable."""

    name: str
    help: str

    def get(self) -> str | None:
        """The value, or None when the variable is unset or empty."""
        value = os.environ.get(self.name)
        return value if value else None

    def flag(self) -> bool:
        """True when set to anything but empty or ``0``."""
        return os.environ.get(self.name, "").strip() not in ("", "0")

    def path(self) -> Path | None:
        """The value as a path (``~`` expanded), or None when unset."""
        value = self.get()
        return Path(value).expanduser() if value else None

    def names(self) -> set[str] | None:
        """A comma-separated list as lower-case names; None when unset, an empty set when empty."""
        value = os.environ.get(self.name)
        if value is None:
            return None
        return {n.strip().lower() for n in value.split(",") if n.strip()}


HOME = Variable(
    "GANZOO_HOME", "ganzoo's home folder: the settings file is HOME/config.toml, new runs go to HOME/runs"
)
DEVICE = Variable("GANZOO_DEVICE", "the device for train, generate and eval, as --device")
DATA = Variable("GANZOO_DATA", "the folder holding dataset files, as --data-dir")
CACHE = Variable("GANZOO_CACHE", "where fetched datasets and eval reference features are cached")
OFFLINE = Variable("GANZOO_OFFLINE", "1: never download (no mirrors, no package index)")
ZOO = Variable("GANZOO_ZOO", "an extra zoo.toml whose recipes are read after the packaged ones")
PLUGINS = Variable("GANZOO_PLUGINS", "comma-separated third-party plugins to load; set but empty: none")
DISABLE_PLUGINS = Variable("GANZOO_DISABLE_PLUGINS", "comma-separated plugins or distributions never to load")
STRICT_PLUGINS = Variable("GANZOO_STRICT_PLUGINS", "1: a failing plugin raises its exception (for authors)")
TRACE_PLUGINS = Variable("GANZOO_TRACE_PLUGINS", "1: say on stderr which plugin answered which hook")
OMP = Variable(
    "GANZOO_OMP", "off: leave OpenMP's wait policy to libgomp, however busy the machine (ganzoo.threads)"
)
INCEPTION_WEIGHTS = Variable(
    "GANZOO_INCEPTION_WEIGHTS", "torchvision's Inception-v3 weights file, for eval on other images"
)

#: Every variable, in the order docs/guide.md lists them.
ALL: tuple[Variable, ...] = (
    HOME,
    DEVICE,
    DATA,
    CACHE,
    OFFLINE,
    ZOO,
    PLUGINS,
    DISABLE_PLUGINS,
    STRICT_PLUGINS,
    TRACE_PLUGINS,
    OMP,
    INCEPTION_WEIGHTS,
)

# torchrun's own variables, which ganzoo reads but does not define (docs/scaling.md).
RANK = Variable("RANK", "this process's rank under torchrun (0 alone)")
WORLD_SIZE = Variable("WORLD_SIZE", "the number of processes under torchrun (1 alone)")
LOCAL_RANK = Variable("LOCAL_RANK", "this process's rank on its machine: the GPU it takes")


def rank() -> int:
    """This process's rank under torchrun; 0 when it runs alone."""
    return int(RANK.get() or 0)


def world_size() -> int:
    return int(WORLD_SIZE.get() or 1)
