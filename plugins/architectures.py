"""Registers ganzoo's built-in architectures; the modules holding them load only when built."""

from __future__ import annotations

from ganzoo import hookimpl
from ganzoo.hookspecs import Register

ARCHITECTURES = {
    "upsample-conv": (
        "ganzoo.plugins.upsample_conv",
        "Upsample-conv GAN (source 000): dense → 2x nearest upsampling + 5x5 convs, tanh, SGD Nesterov.",
    ),
    "dcgan": (
        "ganzoo.plugins.dcgan",
        "DCGAN (source 001): 5x5 stride-2 (transposed) convs with BN and LReLU 0.2, depth from image size; "
        "conditional: class BN in G, projection D.",
    ),
    "vanilla-mlp": (
        "ganzoo.plugins.vanilla_mlp",
        "Vanilla MLP GAN (source 002): 100→128→784, LeakyReLU 0.01; "
        "conditional: class vector in G, projection D.",
    ),
    "transpose-conv": (
        "ganzoo.plugins.transpose_conv",
        "Transposed-conv GAN (source 003): 2 stride-2 transposed convs, sigmoid output, dropout D.",
    ),
    "sine-1d": (
        "ganzoo.plugins.sine_1d",
        "1-D sine-curve GAN (source 004): MLP generator 10→200→L, Conv1D discriminator.",
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
