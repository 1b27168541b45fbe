"""Finds plugins through the ``ganzoo`` entry-point group, one at a time, and records every failure."""

from __future__ import annotations

import difflib
import inspect
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from importlib import metadata
from types import ModuleType
from typing import Any

import pluggy

from ganzoo import env, hookspecs
from ganzoo.errors import PluginError
from ganzoo.registry import PLURALS, Entry, PluginInfo, Registry

GROUP = "ganzoo"
HOOKS = {f"register_{plural}": kind for plural, kind in PLURALS.items()}
#: An entry-point module slower than this to import is flagged by ``ganzoo plugins``: every
#: command, ``ganzoo list`` and ``--help`` included, pays it (torch alone costs about a second).
SLOW_IMPORT_S = 0.25
#: What ``ganzoo plugins`` tells the author of a slow entry-point module.
LIGHT_HINT = (
    "keep the entry-point module light: register classes as 'package.module:Class' strings so the "
    "torch code loads only when a component is built (docs/plugins.md)"
)


@dataclass
class PluginStatus:
    """What one plugin gave ganzoo, and whether it loaded."""

    info: PluginInfo
    status: str = "ok"  # ok | failed | blocked
    reason: str = ""
    provides: Counter[str] = field(default_factory=Counter)
    #: Seconds its entry-point module took to import (None: not imported from an entry point).
    import_seconds: float | None = None
    #: Whether importing its entry-point module imported torch (only knowable when torch was not
    #: loaded before it, as in ``ganzoo list``).
    imported_torch: bool = False
    #: Functions of the plugin named like a hook (or nearly) but not marked with ``@ganzoo.hookimpl``.
    unmarked: tuple[str, ...] = ()

    @property
    def slow(self) -> bool:
        return self.imported_torch or (self.import_seconds or 0.0) > SLOW_IMPORT_S


def installed_plugins() -> list[tuple[Any, str, str]]:
    """Every ``ganzoo`` entry point installed, built-ins first, with its distribution's name and
    version; each once (a distribution found twice on sys.path is listed once). Nothing is imported."""
    out, seen = [], set()
    for ep in sorted(metadata.entry_points(group=GROUP), key=_builtin_first):
        dist = ep.dist.metadata["Name"] if ep.dist is not None else "unknown"
        version = ep.dist.version if ep.dist is not None else "?"
        if (dist, ep.name) not in seen:
            seen.add((dist, ep.name))
            out.append((ep, dist, version))
    return out


class PluginManager:
    """pluggy's manager plus ganzoo's registry and the status of every plugin it tried."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager(GROUP)
        self.pm.add_hookspecs(hookspecs)
        self.registry = Registry()
        self.plugins: list[PluginStatus] = []
        self.strict = env.STRICT_PLUGINS.flag()
        self.trace = env.TRACE_PLUGINS.flag()

    # -- loading ---------------------------------------------------------------------------
    def load_entrypoints(self) -> None:
        """Load every ``ganzoo`` entry point, each in its own try so one failure hides nothing."""
        allow, block = env.PLUGINS.names(), env.DISABLE_PLUGINS.names() or set()
        for ep, dist, version in installed_plugins():
            info = PluginInfo(ep.name, dist, version, ep.value, builtin=dist.lower() == "ganzoo")
            names = {ep.name.lower(), dist.lower()}
            if names & block:
                self.plugins.append(PluginStatus(info, "blocked", f"listed in {env.DISABLE_PLUGINS.name}"))
                continue
            if not info.builtin and allow is not None and not names & allow:
                self.plugins.append(PluginStatus(info, "blocked", f"not listed in {env.PLUGINS.name}"))
                continue
            had_torch = "torch" in sys.modules
            start = time.perf_counter()
            try:
                module = ep.load()
            except Exception as exc:
                self._failed(info, f"import failed: {type(exc).__name__}: {exc}", exc)
                continue
            status = self.add(module, info)
            status.import_seconds = time.perf_counter() - start
            status.imported_torch = not had_torch and "torch" in sys.modules

    def add(self, plugin: ModuleType | object, info: PluginInfo) -> PluginStatus:
        """Register one plugin object with pluggy and collect what its hooks register."""
        status = PluginStatus(info)
        try:
            self.pm.register(plugin, name=f"{info.dist}:{info.name}")
            self.pm.check_pending()
        except Exception as exc:
            if self.pm.is_registered(plugin):
                self.pm.unregister(plugin)
            return self._failed(info, _one_line(exc), exc)
        entries: list[Entry] = []
        # Each hook through pluggy (its call loop, tracing and monitoring), on this plugin alone: what
        # it registers is attributed to it, and its failure is its own.
        others = [p for p in self.pm.get_plugins() if p is not plugin]
        try:
            for hook_name, kind in HOOKS.items():
                before = len(entries)
                caller = self.pm.subset_hook_caller(hook_name, remove_plugins=others)
                if not caller.get_hookimpls():
                    continue
                caller(register=self._collector(kind, info, entries))
                if self.trace:
                    answered = ", ".join(e.name for e in entries[before:]) or "nothing"
                    print(
                        f"ganzoo: {hook_name} answered by {info.name} ({info.dist} {info.version}): "
                        f"{answered}",
                        file=sys.stderr,
                    )
            for entry in entries:
                self.registry.add(entry)
        except Exception as exc:
            self.pm.unregister(plugin)
            self.registry.remove(info)
            return self._failed(info, f"registration failed: {_one_line(exc)}", exc)
        status.provides.update(e.kind for e in entries)
        if not entries:
            status.unmarked = unmarked_hooks(plugin)
        self.plugins.append(status)
        return status

    def remove(self, info: PluginInfo) -> None:
        """Forget a plugin and everything it registered (the testing fixture's undo)."""
        plugin = self.pm.get_plugin(f"{info.dist}:{info.name}")
        if plugin is not None:
            self.pm.unregister(plugin)
        self.registry.remove(info)
        self.plugins = [p for p in self.plugins if p.info != info]

    def _collector(self, kind: str, info: PluginInfo, into: list[Entry]) -> Any:
        def register(name: str, target: Any, summary: str = "") -> None:
            if not summary and not isinstance(target, str):
                lines = (getattr(target, "__doc__", "") or "").strip().splitlines()
                summary = lines[0] if lines else ""
            into.append(Entry(kind, name, summary, target, info))

        return register

    def _failed(self, info: PluginInfo, reason: str, exc: BaseException) -> PluginStatus:
        if self.strict:
            raise PluginError(f"Plugin {info.name} from {info.dist} {info.version}: {reason}") from exc
        status = PluginStatus(info, "failed", reason)
        self.plugins.append(status)
        return status

    # -- questions -------------------------------------------------------------------------
    def failures(self) -> list[PluginStatus]:
        return [p for p in self.plugins if p.status == "failed"]

    def shadows(self, info: PluginInfo) -> list[tuple[str, str, list[PluginInfo]]]:
        """(kind, name, the other plugins registering it) for each of ``info``'s names that another
        distribution registers too: the short name is then ambiguous for every user."""
        found = []
        for entry in self.registry.entries():
            if entry.plugin != info:
                continue
            others = [
                e.plugin
                for e in self.registry.entries(entry.kind)
                if e.name == entry.name and e.plugin.dist != info.dist
            ]
            if others:
                found.append((entry.kind, entry.name, others))
        return found

    def warnings(self, p: PluginStatus) -> list[str]:
        """What ``ganzoo plugins`` flags about a plugin that loaded, each a sentence with a hint:
        it registers nothing, it shadows another distribution's names, its import is slow."""
        if p.status != "ok":
            return []
        notes = []
        if not p.provides:
            if p.unmarked:
                names = ", ".join(f"{n}()" for n in p.unmarked)
                notes.append(
                    f"registers nothing: {names} {'is' if len(p.unmarked) == 1 else 'are'} not marked "
                    "with @ganzoo.hookimpl, so ganzoo never calls "
                    f"{'it' if len(p.unmarked) == 1 else 'them'}; add the decorator "
                    "(`from ganzoo import hookimpl`)."
                )
            else:
                notes.append(
                    "registers nothing: it has no @ganzoo.hookimpl function named "
                    f"{', '.join(HOOKS)}, or its hooks never call register(NAME, TARGET)."
                )
        # The built-in a plugin shadows is not at fault: the plugin's row carries the flag.
        for kind, name, others in [] if p.info.builtin else self.shadows(p.info):
            by = " and ".join(f"{o.dist} {o.version}" + (" (built-in)" if o.builtin else "") for o in others)
            pick = " or ".join(f"'{q}'" for q in (f"{o.dist}:{name}" for o in others))
            notes.append(
                f"shadows the {kind} '{name}' of {by}: the short name is now ambiguous; users pick "
                f"{pick} or '{p.info.dist}:{name}', or disable this plugin with -p no:{p.info.dist}."
            )
        if p.slow:
            took = f"{p.import_seconds:.2f} s to import" if p.import_seconds is not None else "long to import"
            torch_note = ", importing torch," if p.imported_torch else ""
            notes.append(
                f"slow: its entry-point module {p.info.module} took {took}{torch_note} for every "
                f"ganzoo command; {LIGHT_HINT}."
            )
        return notes


def unmarked_hooks(plugin: object) -> tuple[str, ...]:
    """Functions of ``plugin`` named like a hook, or nearly (``register_generator``), that are not
    marked with ``@ganzoo.hookimpl``: pluggy ignores them without a word."""
    found = []
    for name, value in vars(plugin).items() if hasattr(plugin, "__dict__") else ():
        if not (inspect.isfunction(value) and name.startswith("register")):
            continue
        if getattr(value, f"{GROUP}_impl", None) is not None:  # pluggy's mark
            continue
        if name in HOOKS or difflib.get_close_matches(name, list(HOOKS), n=1, cutoff=0.85):
            found.append(name)
    return tuple(found)


def _builtin_first(ep: metadata.EntryPoint) -> tuple[int, str]:
    dist = ep.dist.metadata["Name"].lower() if ep.dist is not None else ""
    return (0 if dist == "ganzoo" else 1, ep.name)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


_MANAGER: PluginManager | None = None


def get_manager(reload: bool = False) -> PluginManager:
    """The process-wide manager, built on first use (never at import time)."""
    global _MANAGER
    if _MANAGER is None or reload:
        _MANAGER = PluginManager()
        _MANAGER.load_entrypoints()
    return _MANAGER
