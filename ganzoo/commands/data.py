"""``ganzoo data``: where each dataset is (or would be) cached, and filling that cache."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ganzoo.commands.results import Result
from ganzoo.manager import PluginManager, get_manager


@dataclass(frozen=True)
class DataRow(Result):
    name: str
    present: bool
    where: str
    dist: str


def data_status(manager: PluginManager | None = None, data_dir: Path | None = None) -> list[DataRow]:
    """Where each registered dataset is (or would be) cached, and whether its files are present."""
    manager = manager or get_manager()
    rows = []
    for entry in manager.registry.entries("dataset"):
        try:
            ds = entry.load()(data_dir)
            status = ds.status()
            rows.append(DataRow(entry.name, status.present, status.where, entry.plugin.dist))
        except Exception as exc:  # one broken dataset plugin must not hide the rest
            rows.append(DataRow(entry.name, False, f"error: {exc}", entry.plugin.dist))
    return rows


def data_fetch(name: str, data_dir: Path | None = None, manager: PluginManager | None = None) -> str:
    """Make a dataset available offline; returns where its files are."""
    from ganzoo import build

    ds = build.lookup(manager or get_manager(), "dataset", name)(data_dir)
    return str(ds.fetch())
