"""Name → component lookup: duplicates kept, ambiguity refused, unknown names get a did-you-mean."""

from __future__ import annotations

import difflib
import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ganzoo import env
from ganzoo.errors import AmbiguousComponentError, PluginError, UnknownComponentError
from ganzoo.settings import KINDS as COMPONENT_KINDS

#: What plugins register: the four kinds of component a run is made of, reporters, and trained
#: generators they ship (``pretrained``: a folder of weights, not a class).
KINDS = (*COMPONENT_KINDS, "reporter", "pretrained")
PLURALS = {{"loss": "losses", "pretrained": "pretrained"}.get(kind, f"{kind}s"): kind for kind in KINDS}
NAME_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@dataclass(frozen=True)
class PluginInfo:
    """Who registered a component: the entry point, its distribution and that distribution's version."""

    name: str
    dist: str
    version: str
    module: str
    builtin: bool = False


@dataclass
class Entry:
    """One registered component; its class is imported only when :meth:`load` is called."""

    kind: str
    name: str
    summary: str
    target: str | Callable[..., Any]
    plugin: PluginInfo
    _loaded: Any = field(default=None, repr=False)

    @property
    def qualified(self) -> str:
        return f"{self.plugin.dist}:{self.name}"

    def load(self) -> Any:
        """Import and return the registered class, naming the plugin if that fails."""
        if self._loaded is not None:
            return self._loaded
        target = self.target
        if isinstance(target, str):
            module_name, _, attr = target.partition(":")
            try:
                obj: Any = importlib.import_module(module_name)
                for part in attr.split(".") if attr else []:
                    obj = getattr(obj, part)
            except Exception as exc:  # a plugin's import can fail in any way
                raise PluginError(
                    f"The {self.kind} '{self.name}' from plugin distribution "
                    f"{self.plugin.dist} {self.plugin.version} could not be imported "
                    f"from '{target}': {type(exc).__name__}: {exc}."
                ) from exc
            target = obj
        self._loaded = target
        return target


class Registry:
    """Every registered component, by kind and name, duplicates included."""

    def __init__(self) -> None:
        self._entries: dict[str, dict[str, list[Entry]]] = {kind: {} for kind in KINDS}

    def add(self, entry: Entry) -> None:
        if entry.kind not in KINDS:
            raise ValueError(f"unknown component kind {entry.kind!r}")
        if not NAME_RE.match(entry.name):
            raise ValueError(
                f"component name {entry.name!r} is not kebab-case (lower-case words joined by '-')"
            )
        same = self._entries[entry.kind].setdefault(entry.name, [])
        # One distribution registering one name twice (an installed plugin that its own test suite
        # registers again) is one component, not an ambiguity: the first registration stands.
        if not any(e.plugin.dist == entry.plugin.dist for e in same):
            same.append(entry)

    def remove(self, plugin: PluginInfo) -> None:
        for by_name in self._entries.values():
            for name in list(by_name):
                by_name[name] = [e for e in by_name[name] if e.plugin != plugin]
                if not by_name[name]:
                    del by_name[name]

    def entries(self, kind: str | None = None) -> list[Entry]:
        """All entries, sorted by kind then name; duplicates appear once per distribution."""
        kinds = KINDS if kind is None else (kind,)
        return [e for k in kinds for name in sorted(self._entries[k]) for e in self._entries[k][name]]

    def names(self, kind: str) -> list[str]:
        return sorted(self._entries[kind])

    def get(self, kind: str, name: str) -> Entry:
        """The entry for ``name`` or ``DIST:NAME``; raises a one-sentence error otherwise."""
        dist, sep, short = name.rpartition(":")
        candidates = self._entries[kind].get(short if sep else name, [])
        if sep:
            candidates = [e for e in candidates if same_dist(e.plugin.dist, dist)]
        if len(candidates) == 1:
            return candidates[0]
        if len(candidates) > 1:
            raise AmbiguousComponentError(ambiguity_message(kind, name, candidates))
        raise UnknownComponentError(self._unknown_message(kind, name))

    def _unknown_message(self, kind: str, name: str) -> str:
        known = self.names(kind)
        close = difflib.get_close_matches(name.rpartition(":")[2], known, n=3, cutoff=0.5)
        message = f"Unknown {kind} '{name}'."
        if close:
            message += " Did you mean " + " or ".join(f"'{c}'" for c in close) + "?"
        elif known:
            message += " Known: " + ", ".join(known) + "."
        else:
            message += f" No {kind} is registered; see `ganzoo plugins`."
        return message


def ambiguity_message(kind: str, name: str, candidates: list[Entry]) -> str:
    """One sentence naming every distribution that registers ``name`` and how to pick one: its
    ``DIST:NAME`` (ganzoo's built-in first), or disabling the plugin that shadows it."""
    ordered = sorted(candidates, key=lambda e: (not e.plugin.builtin, e.plugin.dist))
    dists = [f"{e.plugin.dist} {e.plugin.version}" for e in ordered]
    who = (
        f"both {dists[0]} and {dists[1]}" if len(dists) == 2 else ", ".join(dists[:-1]) + f" and {dists[-1]}"
    )
    pick = " or ".join(f"'{e.qualified}'" + (" (the built-in)" if e.plugin.builtin else "") for e in ordered)
    third = [e.plugin.dist for e in ordered if not e.plugin.builtin]
    disable = (
        f"; or disable {third[0]} with `ganzoo -p no:{third[0]} ...` or {env.DISABLE_PLUGINS.name}={third[0]}"
        if len(third) == 1
        else f"; or disable one plugin with `ganzoo -p no:DIST ...` or {env.DISABLE_PLUGINS.name}=DIST"
    )
    return f"The {kind} name '{name}' is registered by {who}; choose one with {pick}{disable}."


def same_dist(a: str, b: str) -> bool:
    """Whether two distribution names are the same one (PEP 503: case, and -, _ and . alike)."""

    def norm(s: str) -> str:
        return re.sub(r"[-_.]+", "-", s).lower()

    return norm(a) == norm(b)
