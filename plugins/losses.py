"""Registers ganzoo's built-in losses; the modules holding them load only when built."""

from __future__ import annotations

from ganzoo import hookimpl
from ganzoo.hookspecs import Register


@hookimpl
def register_losses(register: Register) -> None:
    register(
        "bce",
        "ganzoo.plugins.bce:BCE",
        "Non-saturating binary cross-entropy on logits, with one-sided label smoothing.",
    )
