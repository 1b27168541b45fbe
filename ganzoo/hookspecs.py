"""The hooks through which every component and reporter, built-in or third-party, reaches ganzoo."""

from __future__ import annotations

from collections.abc import Callable

import pluggy

hookspec = pluggy.HookspecMarker("ganzoo")
hookimpl = pluggy.HookimplMarker("ganzoo")

#: ``register(name, target, summary="")``: ``target`` is a class or a lazy ``"module:Attr"`` path.
Register = Callable[..., None]


@hookspec
def register_generators(register: Register) -> None:
    """Register Generator classes (``ganzoo.components.Generator`` subclasses) by name.

    .. versionadded:: 0.1
    """


@hookspec
def register_discriminators(register: Register) -> None:
    """Register Discriminator classes (``ganzoo.components.Discriminator`` subclasses) by name.

    .. versionadded:: 0.1
    """


@hookspec
def register_datasets(register: Register) -> None:
    """Register Dataset classes (``ganzoo.components.Dataset`` subclasses) by name.

    .. versionadded:: 0.1
    """


@hookspec
def register_losses(register: Register) -> None:
    """Register Loss classes (``ganzoo.components.Loss`` subclasses) by name.

    .. versionadded:: 0.1
    """


@hookspec
def register_pretrained(register: Register) -> None:
    """Register trained generators a package ships, by name: ``register(name, "package:folder")``,
    a folder inside the package (found with importlib.resources, so it works from a wheel) holding
    ``manifest.json``, the generator's ``model.safetensors`` and ``config.json`` (and, for
    fine-tuning, ``discriminator.safetensors``). Listed without importing torch.

    .. versionadded:: 0.3
    """


@hookspec
def register_reporters(register: Register) -> None:
    """Register Reporter classes (``ganzoo.training.Reporter`` subclasses) by name, for ``--report``.

    .. versionadded:: 0.2
    """
