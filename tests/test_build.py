"""Building components: a plugin network with the wrong shapes is named before training."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import pytest
import torch
from torch import nn

from ganzoo.errors import DataError, PluginError, UsageError
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


COLUMN_D = """
    import torch
    from ganzoo import hookimpl
    from ganzoo.components import Loss
    from ganzoo.plugins.vanilla_mlp import Discriminator

    SEEN = set()

    class Column(Discriminator):
        def forward(self, x):
            return super().forward(x).view(-1, 1)  # (N, 1), as nn.Linear(..., 1) gives it

    class Cube(Discriminator):
        def forward(self, x):
            return super().forward(x).view(-1, 1, 1)

    class Strict(Loss):
        \"\"\"BCE that records the shape of every logits batch it is given.\"\"\"

        pairwise = True

        def d_loss(self, real, fake):
            SEEN.update({tuple(real.shape[1:]), tuple(fake.shape[1:])})
            f = torch.nn.functional.softplus
            return f(fake.float() - real.float()).mean()

        def g_loss(self, fake, real):
            SEEN.update({tuple(real.shape[1:]), tuple(fake.shape[1:])})
            return torch.nn.functional.softplus(real.float() - fake.float()).mean()

    @hookimpl
    def register_discriminators(register):
        register("column", Column)
        register("cube", Cube)

    @hookimpl
    def register_losses(register):
        register("strict", Strict)
"""


@pytest.mark.parametrize("order", ["joint", "mixed"])
def test_a_discriminator_returning_n_by_1_trains_and_the_loss_sees_n(
    make_dist: Callable[..., None], site: Path, mnist_dir: Path, order: str
) -> None:
    """docs/plugins.md: D returns (N,) or (N, 1); a loss always gets (N,) (a pairwise loss would
    otherwise broadcast (N, 1) against (N,) into (N, N) without a word)."""
    import json

    from ganzoo import api

    make_dist(site, "zz-column", "zz_column", COLUMN_D)
    get_manager(reload=True)
    run = api.train(
        "vanilla-mlp", "mnist", discriminator="column", loss="strict", data_dir=mnist_dir, out=site / "run",
        iterations=3, device="cpu", sets=[f"d_update={order}", "batch_size=16"],
    )  # fmt: skip
    assert json.loads(run.file("config.json").read_text())["result"]["steps"] == 3
    import zz_column

    assert {()} == zz_column.SEEN  # every logits batch the loss saw was (N,)


def test_a_discriminator_of_another_shape_is_refused_in_one_sentence(
    make_dist: Callable[..., None], site: Path, mnist_dir: Path
) -> None:
    from ganzoo import api

    make_dist(site, "zz-column", "zz_column", COLUMN_D)
    get_manager(reload=True)
    with pytest.raises(PluginError) as err:
        api.train(
            "vanilla-mlp", "mnist", discriminator="cube", data_dir=mnist_dir, out=site / "r", iterations=2
        )
    assert str(err.value) == (
        "The discriminator 'cube' (zz-column 1.0) returned a tensor of shape (2, 1, 1) for a batch of 2; "
        "it must return (N,) or (N, 1) logits, one a sample."
    )
    assert not (site / "r").exists()


def test_data_outside_its_declared_range_is_refused_naming_what_was_found() -> None:
    from ganzoo.build import check_values
    from ganzoo.components import DataSpec

    spec = DataSpec((1, 2, 2), "image", (0.0, 1.0))
    check_values(torch.tensor([[[[0.0, 1.0 + 1e-7], [0.5, -1e-7]]]]), spec, "ok")  # float rounding passes
    with pytest.raises(DataError) as err:
        check_values(torch.full((3, 1, 2, 2), 255.0), spec, "bytes")
    assert str(err.value) == (
        "The dataset 'bytes' declares values in [0, 1] (its value_range), but its training data holds values "
        "from 255 to 255; scale them in load() or declare the range they have."
    )
    streamed = [torch.zeros(1, 2, 2), torch.full((1, 2, 2), -0.5)]  # a map-style dataset: first samples
    with pytest.raises(DataError, match=r"holds values from -0\.5 to 0;"):
        check_values(streamed, spec, "streamed")
    with pytest.raises(DataError, match="'nan' holds NaN or infinite values"):
        check_values(torch.tensor([[[[float("nan"), 0.0], [0.0, 0.0]]]]), spec, "nan")


def test_hyperparameters_must_have_their_defaults_type() -> None:
    from ganzoo.build import Component, check_params

    class Net:
        defaults: ClassVar[dict[str, Any]] = {
            "hidden": 8,
            "slope": 0.2,
            "norm": True,
            "act": "relu",
            "betas": [0.5, 0.9],
            "extra": None,
        }

    c = Component("generator", "net", Net, "zz 1.0")
    check_params(c, {"hidden": 16, "slope": 1, "norm": False, "act": "gelu", "betas": [0, 1], "extra": 3})
    for key, value, want in (
        ("hidden", "abc", "generator.hidden must be a whole number, got 'abc'."),
        ("hidden", 2.5, "generator.hidden must be a whole number, got 2.5."),
        ("hidden", True, "generator.hidden must be a whole number, got true."),
        ("slope", "x", "generator.slope must be a number, got 'x'."),
        ("norm", 1, "generator.norm must be true or false, got 1."),
        ("act", 3, "generator.act must be a string, got 3."),
        ("betas", 0.5, "generator.betas must be a list like [0.5, 0.9], got 0.5."),
    ):
        with pytest.raises(UsageError) as err:
            check_params(c, {key: value})
        assert str(err.value) == want


SIZES = """
    from ganzoo import hookimpl
    from ganzoo.plugins.vanilla_mlp import Generator

    class Sized(Generator):
        defaults = {"hidden": 128, "depth": 2}

        def __init__(self, data, latent_dim, hidden=128, depth=2):
            if hidden * depth > 1000:
                raise RuntimeError("the layer size is more than this plugin allows")
            super().__init__(data, latent_dim, hidden=hidden)

    @hookimpl
    def register_generators(register):
        register("sized", Sized)
"""


def test_a_constructor_failing_on_user_set_sizes_is_a_usage_error_naming_its_parameters(
    make_dist: Callable[..., None], site: Path, mnist_dir: Path
) -> None:
    from ganzoo import api

    make_dist(site, "zz-sized", "zz_sized", SIZES)
    get_manager(reload=True)
    with pytest.raises(UsageError) as err:
        api.train(
            "vanilla-mlp", "mnist", generator="sized", data_dir=mnist_dir, out=site / "r", iterations=2,
            sets=["generator.hidden=600", "generator.depth=3"],
        )  # fmt: skip
    assert str(err.value) == (
        "The generator 'sized' cannot be built with generator.hidden=600, generator.depth=3 (RuntimeError: "
        "the layer size is more than this plugin allows); its parameters are hidden (default 128), depth "
        "(default 2)."
    )
    # Two sizes below 1: torch's message names the one it tripped on.
    with pytest.raises(UsageError, match=r"^generator.hidden must be a positive whole number, got -600\.$"):
        api.train(
            "vanilla-mlp", "mnist", generator="sized", data_dir=mnist_dir, out=site / "r", iterations=2,
            sets=["generator.hidden=-600", "generator.depth=-1"],
        )  # fmt: skip


def test_a_generator_with_an_unknown_output_activation_is_one_sentence() -> None:
    """A plugin's ``output = "relu"`` is refused by name when the run is planned, not a KeyError."""
    from ganzoo.build import Component, check_serves
    from ganzoo.components import DataSpec, Generator
    from ganzoo.errors import PluginError

    class Relu(Generator):
        output = "relu"

    c = Component("generator", "relu-out", Relu, "ganzoo-test 1.0")
    with pytest.raises(PluginError, match=r"declares output = 'relu'; ganzoo knows the range of 'tanh' and"):
        check_serves(c, DataSpec((1, 28, 28), "image", (0.0, 1.0)))
