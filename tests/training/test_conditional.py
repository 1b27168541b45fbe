"""Class-conditional runs: labels reach both networks, the grids hold one class a row, resume is exact."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

from ganzoo import api, hookimpl
from ganzoo.components import DataSpec
from ganzoo.errors import IncompatibleError, PluginError, UsageError
from ganzoo.plugins import dcgan, vanilla_mlp
from ganzoo.plugins.bce import BCE
from ganzoo.plugins.mnist import MNIST
from ganzoo.sampling import grid_columns, grid_labels
from ganzoo.testing import registered

SPEC = DataSpec((1, 28, 28), "image", (0.0, 1.0), tuple("0123456789"))


def test_networks_built_without_classes_are_the_unconditional_ones() -> None:
    plain = SPEC.__class__((1, 28, 28), "image")
    assert list(vanilla_mlp.Generator(plain, 100).state_dict()) == [
        "net.0.weight",
        "net.0.bias",
        "net.2.weight",
        "net.2.bias",
    ]
    assert "projection.embed.weight" not in vanilla_mlp.Discriminator(plain).state_dict()
    assert not any("gamma" in k for k in dcgan.Generator(plain, 100).state_dict())


@pytest.mark.parametrize("module", [vanilla_mlp, dcgan], ids=["vanilla-mlp", "dcgan"])
def test_conditional_networks_depend_on_the_label(module: Any) -> None:
    torch.manual_seed(0)
    g, d = module.Generator(SPEC, 100).eval(), module.Discriminator(SPEC).eval()
    # Train-free, the class terms start small (γ = 1, β = 0, a projection of std 0.02): move them.
    for p in list(g.parameters()) + list(d.parameters()):
        if p.dim() == 2 and p.shape[0] == 10:  # the class embeddings
            torch.nn.init.normal_(p, std=0.1)
    z = torch.randn(4, 100)
    with torch.no_grad():
        a, b = g(z, torch.zeros(4, dtype=torch.long)), g(z, torch.ones(4, dtype=torch.long))
        assert a.shape == (4, 1, 28, 28) and not torch.allclose(a, b)
        x = torch.rand(4, 1, 28, 28)
        assert not torch.allclose(
            d(x, torch.zeros(4, dtype=torch.long)), d(x, torch.ones(4, dtype=torch.long))
        )
        assert d.classify(x).shape == (4, 10)


def test_grid_labels_put_one_class_a_row() -> None:
    assert grid_columns(100, 10) == 10 and grid_labels(100, 10).view(10, 10)[:, 0].tolist() == list(range(10))
    # Not a multiple of the classes: the default width, every class in order, as even as can be.
    for n in (16, 25, 64):
        labels = grid_labels(n, 10).tolist()
        assert grid_columns(n, 10) is None and labels == sorted(labels) and set(labels) == set(range(10))
        assert max(labels.count(c) for c in range(10)) - min(labels.count(c) for c in range(10)) <= 1
    assert grid_labels(3, 10).tolist() == [0, 3, 6]


def test_a_conditional_run_records_it_and_draws_one_class_a_row(tmp_path: Path, mnist_dir: Path) -> None:
    run = api.train(
        "vanilla-mlp", "mnist", out=tmp_path / "run", data_dir=mnist_dir, iterations=20, seed=0,
        device="cpu", conditional=True, sets=["samples=30"],
    )  # fmt: skip
    assert run.record.config.train.conditional
    assert run.record.data.classes == tuple("0123456789")
    grid = Image.open(run.path / "samples" / "step-0000020.png")
    # 30 samples, 10 classes: 3 columns of 28 pixels and 2 of padding (and one at the edge), 10 rows.
    assert grid.size == (3 * 30 + 2, 10 * 30 + 2)
    g = run.load_generator()
    assert g.classes == tuple("0123456789")
    assert "embed.weight" in g.module.state_dict()


class Spy(vanilla_mlp.Discriminator):
    """A conditional D that keeps the labels of every batch it is shown."""

    seen: ClassVar[list[torch.Tensor]] = []

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if labels is not None and self.training and torch.is_grad_enabled():
            Spy.seen.append(labels.clone())
        return super().forward(x, labels)


class SpyPlugin:
    @hookimpl
    def register_discriminators(self, register: Any) -> None:
        register("spy", Spy)


def test_real_batches_reach_d_with_their_own_labels(tmp_path: Path, mnist_dir: Path) -> None:
    Spy.seen.clear()
    with registered(SpyPlugin()):
        api.train(
            "vanilla-mlp", "mnist", discriminator="spy", out=tmp_path / "run", data_dir=mnist_dir,
            iterations=2, seed=0, device="cpu", conditional=True, batch_size=8,
            sets=["data_order=sequential", "d_update=split", "loss.r1=0"],
        )  # fmt: skip
    truth = MNIST(mnist_dir).labels("train")
    # D's first step: the first 8 digits in stored order, then the fake batch made for the same
    # labels; G's step reuses that fake batch and its labels; the next iteration's real batch follows.
    first, second = truth[:8].tolist(), truth[8:16].tolist()
    assert [s.tolist() for s in Spy.seen[:4]] == [first, first, first, second]


@pytest.mark.parametrize(
    "options",
    [
        {"sets": ["loss.acgan=0.5", "loss.r1=1"]},
        {"loss": "wgan-gp", "sets": ["d_update=mixed"]},
        {"sets": ["d_update=concat", "reuse_fake=false"]},
        {"loss": "rpgan", "sets": ["loss.r2=1", "d_update=joint"]},
    ],
    ids=["acgan-r1", "wgan-gp-mixed", "concat-fresh-noise", "rpgan-r2"],
)
def test_a_conditional_run_resumes_bit_for_bit(
    tmp_path: Path, train_short: Callable[..., Any], options: dict[str, Any]
) -> None:
    for name, iterations in (("straight", 30), ("split", 12)):
        train_short(tmp_path / name, iterations=iterations, conditional=True, ema=0.9, **options)
    api.train(resume=tmp_path / "split", iterations=30)
    for weights in ("generator", "generator-ema", "discriminator"):
        a, b = (load_file(str(tmp_path / r / f"{weights}.safetensors")) for r in ("straight", "split"))
        assert all(torch.equal(a[k], b[k]) for k in a), weights
        assert any("embed" in k for k in a)


def test_acgan_logs_its_classification_loss(tmp_path: Path, train_short: Callable[..., Any]) -> None:
    run = train_short(tmp_path / "run", iterations=10, conditional=True, sets=["loss.acgan=1"])
    assert 0 < run.metrics()[-1]["acgan"] < 10


def test_dcgan_trains_conditionally_with_acgan(tmp_path: Path, mnist_dir: Path) -> None:
    run = api.train(
        "dcgan", "mnist", out=tmp_path / "run", data_dir=mnist_dir, iterations=3, seed=0, device="cpu",
        conditional=True, batch_size=8, sets=["loss.acgan=0.1", "log_every=1", "samples=10"],
    )  # fmt: skip
    assert run.record.config.recipe == "dcgan-mnist-conditional"  # --conditional picks the pair's
    assert run.metrics()[-1]["acgan"] > 0
    samples = run.load_generator().sample(4, seed=0, labels="3")
    assert samples.shape == (4, 1, 28, 28)


class Unconditional(vanilla_mlp.Discriminator):
    conditional = False


class NoClassify(vanilla_mlp.Discriminator):
    classify = None  # type: ignore[assignment]


class Parts:
    @hookimpl
    def register_discriminators(self, register: Any) -> None:
        register("plain-d", Unconditional)
        register("no-classify", NoClassify)


def test_what_a_conditional_run_cannot_do_is_one_sentence(tmp_path: Path, mnist_dir: Path) -> None:
    common = {"out": tmp_path / "run", "data_dir": mnist_dir, "iterations": 1, "device": "cpu"}
    with registered(Parts()):
        with pytest.raises(IncompatibleError, match="discriminator 'plain-d' does not take class labels"):
            api.train("vanilla-mlp", "mnist", discriminator="plain-d", conditional=True, **common)
        with pytest.raises(IncompatibleError, match="auxiliary classifier"):
            api.train(
                "vanilla-mlp", "mnist", discriminator="no-classify", conditional=True,
                sets=["loss.acgan=1"], **common,
            )  # fmt: skip
    with pytest.raises(UsageError, match="The dataset 'sine' has no classes"):
        api.train("sine-1d", "sine", conditional=True, **{**common, "data_dir": None})
    assert not (tmp_path / "run").exists()


def test_eval_every_logs_the_conditional_figures(tmp_path: Path, train_short: Callable[..., Any]) -> None:
    run = train_short(tmp_path / "run", iterations=10, conditional=True, eval_every=10, sets=["eval_n=40"])
    figures = run.record.result.eval
    assert 0 <= figures["cond_accuracy"] <= 1 and len(figures["class_fd"]) == 10
    # The fixture's 64 test digits hold one 8: no per-class FD for it, and the mean leaves it out.
    assert figures["class_fd"][8] is None and figures["class_fd_mean"] > 0


def test_a_conditional_resume_refuses_data_whose_classes_changed(tmp_path: Path) -> None:
    from ganzoo.errors import RunDirError

    folder = tmp_path / "pictures"
    for name, colour in (("apples", (200, 20, 20)), ("limes", (20, 200, 20))):
        (folder / name).mkdir(parents=True)
        for i in range(4):
            Image.new("RGB", (16, 16), (colour[0], colour[1], 40 * i)).save(folder / name / f"{i}.png")
    run = tmp_path / "run"
    common = {"data_dir": folder, "device": "cpu", "seed": 0}
    api.train(
        "vanilla-mlp", "image-folder", out=run, iterations=2, conditional=True,
        sets=["dataset.image_size=16", "batch_size=4"], **common,
    )  # fmt: skip
    (folder / "cherries").mkdir()  # sorted first: every label would shift by one
    for i in range(4):
        Image.new("RGB", (16, 16), (120, 0, 40 * i)).save(folder / "cherries" / f"{i}.png")
    with pytest.raises(RunDirError, match="was trained on the classes apples, limes of 'image-folder'"):
        api.train(resume=run, iterations=4, data_dir=folder)


class WholeBatchPenalty(BCE):
    """A penalty that calls D on the real and fake batches together: no labels fit it."""

    def penalties(
        self, discriminator: Any, real: torch.Tensor, fake: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        return {"both": discriminator(torch.cat([real, fake])).mean() * 0}

    def penalty_names(self) -> tuple[str, ...]:
        return ("both",)


class BrokenClassify(vanilla_mlp.Discriminator):
    def classify(self, x: torch.Tensor) -> torch.Tensor:
        raise RuntimeError("no classifier here")


class Oddities:
    @hookimpl
    def register_losses(self, register: Any) -> None:
        register("whole-batch", WholeBatchPenalty)

    @hookimpl
    def register_discriminators(self, register: Any) -> None:
        register("broken-classify", BrokenClassify)


def test_a_plugins_conditional_mistakes_are_named(tmp_path: Path, mnist_dir: Path) -> None:
    common = {"data_dir": mnist_dir, "iterations": 2, "device": "cpu", "conditional": True, "force": True}
    with registered(Oddities()):
        with pytest.raises(PluginError, match="A penalty called D on a batch of 256 samples"):
            api.train("vanilla-mlp", "mnist", loss="whole-batch", out=tmp_path / "a", **common)
        with pytest.raises(PluginError, match=r"classify\(\) failed on a batch of shape \(2, 1, 28, 28\)"):
            api.train(
                "vanilla-mlp", "mnist", discriminator="broken-classify", out=tmp_path / "b",
                sets=["loss.acgan=1"], **common,
            )  # fmt: skip
