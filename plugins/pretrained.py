"""Registers the trained generators ganzoo ships (ganzoo/pretrained/NAME, each with its manifest)."""

from __future__ import annotations

import importlib.resources
import json
from pathlib import Path

from ganzoo import hookimpl
from ganzoo.hookspecs import Register


@hookimpl
def register_pretrained(register: Register) -> None:
    folder = Path(str(importlib.resources.files("ganzoo") / "pretrained"))  # inside the installed package
    if not folder.is_dir():
        return
    for manifest in sorted(folder.glob("*/manifest.json")):
        try:
            summary = str(json.loads(manifest.read_text(encoding="utf-8")).get("summary", ""))
        except (OSError, ValueError, AttributeError):
            summary = ""
        register(manifest.parent.name, f"ganzoo:pretrained/{manifest.parent.name}", summary)
