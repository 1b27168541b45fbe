"""Registers ganzoo's built-in architectures; the modules holding them load only when built."""

from __future__ import annotations

from ganzoo import hookimpl
from ganzoo.hookspecs import Register

ARCHITECTURES = {
    "vanilla-mlp": (
        "ganzoo.plugins.vanilla_mlp",
        "Vanilla MLP GAN (source 002): 100→128→784, LeakyReLU 0.01.",
    ),
}


@hookimpl
def register_generators(register: Register) -> None:
    for name, (module, summary) in ARCHITECTURES.items():
        register(name, f"{module}:Generator", summary)


@hookimpl
def register_discriminators(register: Register) -> None:
    for name, (module, summary) in ARCHITECTURES.items():
        register(name, f"{module}:Discriminator", summary)
