"""Building components: a plugin network with the wrong shapes is named before training."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ganzoo.errors import PluginError
from ganzoo.manager import get_manager


def statuses() -> dict[str, tuple[str, str]]:
    return {p.info.dist: (p.status, p.reason) for p in get_manager(reload=True).plugins}


WRONG_SHAPES = """
    import torch
    from ganzoo import hookimpl
    from ganzoo.plugins.vanilla_mlp import Discriminator, Generator

    class Flat(Generator):
        def forward(self, z):
            return super().forward(z).flatten(1)  # (N, 784), not (N, 1, 28, 28)

    class Crash(Generator):
        def __init__(self, *args, **kwargs):
            raise ValueError("this generator needs a GPU it cannot find")

    class Boom(Discriminator):
        def forward(self, x):
            raise RuntimeError("mat1 and mat2 shapes cannot be multiplied")

    @hookimpl
    def register_generators(register):
        register("flat", Flat)
        register("crash", Crash)

    @hookimpl
    def register_discriminators(register):
        register("flat", Discriminator)
        register("boom", Boom)
"""


def test_a_plugin_network_with_wrong_shapes_is_named_before_training(
    make_dist: Callable[..., None], site: Path, mnist_dir: Path
) -> None:
    from ganzoo import api

    make_dist(site, "zz-shapes", "zz_shapes", WRONG_SHAPES)
    assert statuses()["zz-shapes"][0] == "ok"
    assert {"flat", "boom"} <= set(get_manager().registry.names("discriminator"))  # `ganzoo list` works
    with pytest.raises(PluginError) as err:
        api.train("flat", "mnist", data_dir=mnist_dir, out=site / "run", iterations=2, device="cpu")
    assert "The generator 'flat' (zz-shapes 1.0) returned a tensor of shape (2, 784)" in str(err.value)
    assert "it must return (N, 1, 28, 28)" in str(err.value)
    with pytest.raises(PluginError) as err:
        api.train(
            "vanilla-mlp", "mnist", discriminator="boom", data_dir=mnist_dir, out=site / "r2", iterations=2
        )
    assert "The discriminator 'boom' (zz-shapes 1.0) failed on a batch of shape (2, 1, 28, 28)" in str(
        err.value
    )
    with pytest.raises(PluginError) as err:
        api.train(
            "vanilla-mlp", "mnist", generator="crash", data_dir=mnist_dir, out=site / "r3", iterations=2
        )
    assert (
        "Building the generator 'crash' (zz-shapes 1.0) failed: ValueError: this generator needs a GPU"
        in str(err.value)
    )
    assert not any((site / r).exists() for r in ("run", "r2", "r3"))  # nothing written
    api.train("vanilla-mlp", "mnist", data_dir=mnist_dir, out=site / "ok", iterations=2, device="cpu")
