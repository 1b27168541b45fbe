"""Registers the resnet GAN with ganzoo. No torch here: `ganzoo list` stays fast."""

from ganzoo import hookimpl


@hookimpl
def register_generators(register):
    register("resnet", "ganzoo_resnet.networks:Generator", "Residual up-sampling generator (SNGAN-style).")


@hookimpl
def register_discriminators(register):
    register("resnet", "ganzoo_resnet.networks:Discriminator", "Residual critic with spectral norm.")
