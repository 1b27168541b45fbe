"""Registers ganzoo's built-in datasets; the modules holding them load only when built."""

from __future__ import annotations

from ganzoo import hookimpl
from ganzoo.hookspecs import Register


@hookimpl
def register_datasets(register: Register) -> None:
    register("mnist", "ganzoo.plugins.mnist:MNIST", "The 70,000 handwritten digits of MNIST, 1x28x28.")
