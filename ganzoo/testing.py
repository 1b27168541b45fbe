"""Helpers for testing ganzoo and ganzoo plugins: register a plugin for one test, then forget it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ganzoo.manager import PluginStatus, get_manager
from ganzoo.registry import PluginInfo


@contextmanager
def registered(
    plugin: Any, name: str = "test-plugin", dist: str = "test-dist", version: str = "0.0"
) -> Iterator[PluginStatus]:
    """Register ``plugin`` (a module or an object with hook implementations) while the block runs."""
    manager = get_manager()
    info = PluginInfo(name, dist, version, getattr(plugin, "__name__", type(plugin).__name__))
    status = manager.add(plugin, info)
    try:
        yield status
    finally:
        manager.remove(info)
