"""``ganzoo list``: every registered component with who registered it; never imports torch."""

from __future__ import annotations

from dataclasses import dataclass

from ganzoo.commands.results import Result
from ganzoo.manager import PluginManager, get_manager


@dataclass(frozen=True)
class ComponentRow(Result):
    kind: str
    name: str
    summary: str
    dist: str
    version: str
    plugin: str
    qualified: str  # DIST:NAME, what a run records
    ambiguous: bool  # two distributions register this name: ask for it qualified


def list_components(kind: str | None = None, manager: PluginManager | None = None) -> list[ComponentRow]:
    """Every registered component (of one kind, if given) with who registered it; never imports torch."""
    manager = manager or get_manager()
    return [
        ComponentRow(
            kind=e.kind,
            name=e.name,
            summary=e.summary,
            dist=e.plugin.dist,
            version=e.plugin.version,
            plugin=e.plugin.name,
            qualified=e.qualified,
            ambiguous=len([x for x in manager.registry.entries(e.kind) if x.name == e.name]) > 1,
        )
        for e in manager.registry.entries(kind)
    ]
