"""``ganzoo export --format hub``: a folder that generates, evaluates and loads on its own."""

from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

import ganzoo
from ganzoo import api
from ganzoo.cli import cli
from ganzoo.errors import UsageError
from ganzoo.export import export_hub

FIXTURE = Path(__file__).parent / "fixtures" / "mnist"


@pytest.fixture(scope="module")
def conditional_run(tmp_path_factory: pytest.TempPathFactory) -> ganzoo.Run:
    return api.train(
        "vanilla-mlp", "mnist", out=tmp_path_factory.mktemp("export") / "run", data_dir=FIXTURE,
        iterations=10, seed=0, device="cpu", conditional=True, ema=0.9,
    )  # fmt: skip


def test_a_hub_folder_samples_as_its_run_does_with_the_run_gone(
    conditional_run: ganzoo.Run, tmp_path: Path
) -> None:
    api.evaluate(conditional_run.path, n=40, batch_size=20)
    copy = tmp_path / "run"
    shutil.copytree(conditional_run.path, copy)
    hub = tmp_path / "shared" / "digits"
    result = CliRunner().invoke(cli, ["export", str(copy), "--format", "hub", "-o", str(hub)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in hub.iterdir()) == [
        "README.md",
        "config.json",
        "model.safetensors",
        "samples.png",
    ]
    assert all(p.stat().st_mode & stat.S_IRGRP or p.stat().st_mode & stat.S_IRUSR for p in hub.iterdir())
    want = conditional_run.load_generator().sample(6, seed=4, labels="3")
    shutil.rmtree(copy)  # the hub folder stands alone
    g = ganzoo.load_generator(hub)
    assert g.ema and g.classes == tuple("0123456789")
    assert torch.equal(g.sample(6, seed=4, labels="3"), want)
    config = json.loads((hub / "config.json").read_text())
    assert (
        config["weights"] == "moving average (--ema)" and "run_dir" not in config and "data_dir" not in config
    )
    card = (hub / "README.md").read_text()
    assert "CC BY-SA 3.0" in card and "`fd` |" in card and "Class-conditional" in card
    assert "ganzoo eval, 40 samples, seed 0, moving average (--ema)" in card
    out = tmp_path / "sevens.png"
    assert (
        CliRunner().invoke(cli, ["generate", str(hub), "--class", "7", "-n", "4", "-o", str(out)]).exit_code
        == 0
    )
    evaluated = api.evaluate(hub, n=40, batch_size=20, data_dir=FIXTURE)
    assert evaluated["generator"] == "moving average (--ema)" and "cond_accuracy" in evaluated["metrics"]
    assert not (hub / "eval.json").exists()  # a hub folder is not a run: eval leaves it as it was


def test_what_export_refuses(conditional_run: ganzoo.Run, tmp_path: Path) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(UsageError, match="already exists and is not an empty folder"):
        export_hub(conditional_run.path, tmp_path / "full")
    with pytest.raises(UsageError, match="is not a ganzoo run directory"):
        export_hub(tmp_path / "full", tmp_path / "new")
    unfinished = tmp_path / "unfinished"
    shutil.copytree(conditional_run.path, unfinished)
    record = json.loads((unfinished / "config.json").read_text())
    del record["result"]
    (unfinished / "config.json").write_text(json.dumps(record))
    with pytest.raises(UsageError, match="has not finished training"):
        export_hub(unfinished, tmp_path / "new")
    assert not (tmp_path / "new").exists()
    (tmp_path / "empty").mkdir()
    assert export_hub(conditional_run.path, tmp_path / "empty") == tmp_path / "empty"
    assert (tmp_path / "empty" / "model.safetensors").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging folder left


ARCHITECTURES = [
    ("vanilla-mlp", "mnist", {}),
    ("vanilla-mlp", "mnist", {"conditional": True}),
    ("dcgan", "mnist", {"conditional": True}),
    ("dcgan", "mnist", {}),
    ("upsample-conv", "mnist", {}),
    ("transpose-conv", "mnist", {}),
    ("sine-1d", "sine", {}),
]


@pytest.mark.parametrize(
    ("arch", "dataset", "options"),
    ARCHITECTURES,
    ids=[f"{a}-{d}{'-conditional' if o else ''}" for a, d, o in ARCHITECTURES],
)
def test_onnx_gives_the_samples_pytorch_gives(arch: str, dataset: str, options: dict, tmp_path: Path) -> None:
    import onnxruntime

    from ganzoo.export_onnx import Sampler

    data_dir = FIXTURE if dataset == "mnist" else None
    sets = ["batch_size=8", "samples=4"] + (["dataset.n=64"] if dataset == "sine" else [])
    run = api.train(
        arch, dataset, out=tmp_path / "run", data_dir=data_dir, iterations=2, seed=0, device="cpu",
        sets=sets, **options,
    )  # fmt: skip
    onnx_file = tmp_path / "g.onnx"
    result = CliRunner().invoke(cli, ["export", str(run.path), "--format", "onnx", "-o", str(onnx_file)])
    assert result.exit_code == 0, result.output
    g = run.load_generator()
    session = onnxruntime.InferenceSession(str(onnx_file))
    for n in (1, 5):  # the batch axis is dynamic
        z = g.noise(n, seed=n)
        feed = {"z": z.numpy()}
        labels = None
        if g.classes:
            labels = torch.arange(n) % len(g.classes)
            feed["labels"] = labels.numpy()
        (got,) = session.run(None, feed)
        with torch.no_grad():
            want = Sampler(g).eval()(z, labels)
        assert got.shape == tuple(want.shape) == (n, *g.spec.shape)
        assert float(abs(torch.from_numpy(got) - want).max()) < 1e-4
    if g.spec.modality == "image":  # the same samples `generate` writes
        assert torch.allclose(want, g.sample(5, seed=5, labels=labels), atol=1e-6)


def test_onnx_without_its_packages_is_one_sentence(
    conditional_run: ganzoo.Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "onnxscript" else real(name, *a)
    )
    with pytest.raises(
        UsageError,
        match=r"needs the onnxscript package, which is not installed: pip install 'ganzoo\[onnx\]'",
    ):
        from ganzoo.export_onnx import export_onnx

        export_onnx(conditional_run.path, tmp_path / "g.onnx")
    assert not (tmp_path / "g.onnx").exists()
