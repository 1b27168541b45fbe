"""Registers ganzoo's built-in datasets; the modules holding them load only when built."""

from __future__ import annotations

from ganzoo import hookimpl
from ganzoo.hookspecs import Register


@hookimpl
def register_datasets(register: Register) -> None:
    register("mnist", "ganzoo.plugins.mnist:MNIST", "The 70,000 handwritten digits of MNIST, 1x28x28.")
    register(
        "fashion-mnist",
        "ganzoo.plugins.fashion_mnist:FashionMNIST",
        "Zalando's 70,000 Fashion-MNIST clothing images, 1x28x28.",
    )
    register("svhn", "ganzoo.plugins.svhn:SVHN", "The Street View House Numbers digits, 3x32x32.")
    register("cifar10", "ganzoo.plugins.cifar10:CIFAR10", "The 60,000 CIFAR-10 colour images, 3x32x32.")
    register(
        "image-folder",
        "ganzoo.plugins.image_folder:ImageFolder",
        "Your own folder of PNG/JPEG images (--data-dir), resized and center-cropped.",
    )
    register(
        "sine", "ganzoo.plugins.sine:Sine", "Synthetic sine curves of random phase and frequency, 50 points."
    )
