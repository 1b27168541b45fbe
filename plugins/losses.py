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
    register(
        "minimax",
        "ganzoo.plugins.minimax:Minimax",
        "The original saturating minimax game (Goodfellow et al. 2014): G minimises log(1 - D(G(z))).",
    )
    register(
        "hinge",
        "ganzoo.plugins.hinge:Hinge",
        "Hinge loss on raw scores (Lim & Ye 2017; Miyato et al. 2018): D margin ±1, G raises D's score.",
    )
    register(
        "wgan-gp",
        "ganzoo.plugins.wgan_gp:WGANGP",
        "Wasserstein critic with a gradient penalty on real-fake interpolates (Gulrajani et al. 2017).",
    )
    register(
        "rpgan",
        "ganzoo.plugins.relativistic:RPGAN",
        "Relativistic pairing (Huang et al. 2024, R3GAN): each real sample must beat its generated partner.",
    )
    register(
        "ragan",
        "ganzoo.plugins.relativistic:RaGAN",
        "Relativistic average (Jolicoeur-Martineau 2018): real vs the mean fake score, and back.",
    )
    register(
        "lsgan",
        "ganzoo.plugins.lsgan:LSGAN",
        "Least squares on raw scores (Mao et al. 2017): D real→1, fake→0; G pushes D(G(z))→1.",
    )
