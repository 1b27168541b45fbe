"""Building components: a plugin network with the wrong shapes is named before training."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from torch import nn

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


def test_spectral_norm_brings_every_layers_largest_singular_value_to_one(tmp_path: Path) -> None:
    """--set discriminator.spectral_norm=true on any D, here a plugin-free built-in one."""
    from ganzoo import api
    from ganzoo.build import spectral_norm_all

    fixture = Path(__file__).parent / "fixtures" / "mnist"
    run = tmp_path / "run"
    api.train(
        "dcgan", "mnist", out=run, data_dir=fixture, iterations=3, seed=0, device="cpu", batch_size=8,
        sets=["discriminator.spectral_norm=true"],
    )  # fmt: skip
    from safetensors.torch import load_file

    keys = load_file(str(run / "discriminator.safetensors"))
    assert any(k.endswith("parametrizations.weight.original") for k in keys)
    d = nn.Sequential(nn.Conv2d(1, 8, 3), nn.Flatten(), nn.Linear(8 * 26 * 26, 1))
    with torch.no_grad():
        for p in d.parameters():
            p.mul_(5)
    assert spectral_norm_all(d) == 2 and spectral_norm_all(d) == 0  # once only
    d.train()
    for _ in range(30):  # each training forward refines the power iteration
        d(torch.randn(2, 1, 28, 28))
    for layer in (d[0], d[2]):
        w = layer.weight.detach().flatten(1)  # the normalised weight, as D uses it
        assert torch.linalg.matrix_norm(w, ord=2).item() == pytest.approx(1.0, abs=0.02)
    # a spectrally normalised run samples and resumes like any other
    assert api.load_generator(run).sample(2, seed=0).shape == (2, 1, 28, 28)
