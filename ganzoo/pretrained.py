"""Trained generators shipped inside packages, by name: ganzoo's own and any plugin's.

A pretrained generator is a folder inside a package (``ganzoo/pretrained/NAME`` for ganzoo's,
registered through the ``register_pretrained`` hook as ``"package:folder"``) holding what
``ganzoo export --format hub`` writes (``model.safetensors``, ``config.json``, ``README.md``,
``samples.png``), ``eval.json`` with its ``ganzoo eval`` figures, ``discriminator.safetensors``
when fine-tuning may start from it, and ``manifest.json``: its recipe, summary, headline figures and
every file's sha256, checked before a file is used. A name is accepted wherever a run is
(``generate``, ``eval``, ``export``, ``show``, ``load_generator``, ``train --init``): a path that
exists wins over a name, so ``./dcgan-mnist`` is always the folder of that name. Light: no torch.
"""

from __future__ import annotations

import difflib
import hashlib
import importlib.resources
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ganzoo.errors import RunDirError, UnknownComponentError
from ganzoo.manager import PluginManager, get_manager

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Pretrained:
    """One shipped generator: its name, folder, who ships it, and its manifest."""

    name: str
    folder: Path
    dist: str
    version: str
    summary: str
    manifest: dict[str, Any] = field(repr=False)

    @property
    def recipe(self) -> str | None:
        return self.manifest.get("recipe")

    @property
    def figures(self) -> dict[str, Any]:
        """Its headline ``ganzoo eval`` figures, as measured when it shipped."""
        return dict(self.manifest.get("figures", {}))

    @property
    def size(self) -> int:
        """Bytes of its files."""
        return sum(int(f.get("bytes", 0)) for f in self.manifest.get("files", {}).values())

    def to_row(self) -> dict[str, Any]:
        """What ``ganzoo list pretrained`` shows of it (and prints with ``--json``)."""
        return {
            "name": self.name,
            "recipe": self.recipe,
            "summary": self.summary,
            "figures": self.figures,
            "bytes": self.size,
            "dist": self.dist,
            "version": self.version,
            "precision": self.manifest.get("precision"),
            "discriminator": self.manifest.get("discriminator", False),
        }

    def verified(self) -> Path:
        """Its folder, every file checked against the manifest's sha256: one changed (or missing) is
        refused in one sentence, before anything is read from it."""
        who = f"The pretrained generator '{self.name}' ({self.dist} {self.version})"
        fix = f"reinstall {self.dist} (pip install --force-reinstall {self.dist})"
        for rel, want in self.manifest.get("files", {}).items():
            try:
                got = hashlib.sha256((self.folder / rel).read_bytes()).hexdigest()
            except OSError as exc:
                raise RunDirError(f"{who} is missing {rel} ({exc.strerror or exc}); {fix}.") from exc
            if got != want["sha256"]:
                raise RunDirError(
                    f"{who} has a changed {rel}: its sha256 is {got[:12]}…, its manifest says "
                    f"{want['sha256'][:12]}…; {fix}."
                )
        return self.folder


def folder_of(target: str) -> Path:
    """``"package:relative/folder"`` → that folder inside the installed package."""
    package, _, rel = target.partition(":")
    root = importlib.resources.files(package)
    return Path(str(root / rel)) if rel else Path(str(root))


def available(manager: PluginManager | None = None) -> dict[str, Pretrained]:
    """Every registered pretrained generator whose manifest reads, by name (the first distribution's
    where two register one name; ``ganzoo plugins`` flags that as it does for components)."""
    manager = manager or get_manager()
    out: dict[str, Pretrained] = {}
    for entry in manager.registry.entries("pretrained"):
        if entry.name in out:
            continue
        target = entry.target
        try:
            folder = folder_of(target) if isinstance(target, str) else Path(str(target))
            manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError, ModuleNotFoundError, TypeError):
            continue  # a plugin whose folder is not there: `ganzoo plugins` is where that shows
        summary = entry.summary or str(manifest.get("summary", ""))
        out[entry.name] = Pretrained(
            entry.name, folder, entry.plugin.dist, entry.plugin.version, summary, manifest
        )
    return out


def resolve(run: str | Path, manager: PluginManager | None = None) -> Path:
    """Where ``run`` is: the path itself when it exists, else the verified folder of the pretrained
    generator of that name. Neither: one sentence, with the closest names."""
    path = Path(run)
    if path.exists() or not _looks_like_a_name(str(run)):
        return path  # a path (one that does not exist: the command says so in its own words)
    known = available(manager)
    if str(run) in known:
        return known[str(run)].verified()
    close = difflib.get_close_matches(str(run), list(known), n=3)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    raise UnknownComponentError(
        f"{run} is neither a run folder nor a pretrained generator's name.{hint} "
        "`ganzoo list pretrained` shows the names."
    )


def _looks_like_a_name(text: str) -> bool:
    """A bare kebab-case word (``dcgan-mnist``), not a path (no separator, no suffix)."""
    from ganzoo.registry import NAME_RE

    return bool(NAME_RE.match(text))
