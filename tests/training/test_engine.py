"""Where and how the networks run: mixed precision, the gradient scaler, channels-last, torch.compile."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import load_file
from torch import nn

from ganzoo import api
from ganzoo.components import DataSpec
from ganzoo.errors import UsageError
from ganzoo.files import read_metadata
from ganzoo.training import engine
from ganzoo.training.engine import resolve_precision, use_channels_last


def _train(out: Path, mnist_dir: Path, **options: Any) -> Any:
    options = {"iterations": 30, "seed": 3, "device": "cpu", "checkpoint_every": 15, **options}
    return api.train("vanilla-mlp", "mnist", out=out, data_dir=mnist_dir, sets=["log_every=5"], **options)


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_mixed_precision_trains_keeps_fp32_weights_and_resumes_exactly(
    tmp_path: Path, mnist_dir: Path, precision: str
) -> None:
    straight = tmp_path / "straight"
    _train(straight, mnist_dir, precision=precision)
    rows = [json.loads(line) for line in (straight / "metrics.jsonl").read_text().splitlines()]
    assert len(rows) == 6 and all(abs(r["g_loss"]) < 100 for r in rows)
    weights = load_file(str(straight / "generator.safetensors"))
    assert {t.dtype for t in weights.values()} == {torch.float32}
    config = json.loads((straight / "config.json").read_text())
    assert config["run"]["train"]["precision"] == precision
    fp32 = tmp_path / "fp32"
    _train(fp32, mnist_dir, precision="fp32")
    assert load_file(str(fp32 / "generator.safetensors"))["net.2.weight"].ne(weights["net.2.weight"]).any()

    # Stopped after the checkpoint at 15 and resumed: the gradient scaler's state (fp16) comes back.
    half = tmp_path / "half"
    _train(half, mnist_dir, precision=precision, iterations=15)
    api.train(None, None, resume=half, iterations=30)
    again = load_file(str(half / "generator.safetensors"))
    assert all(torch.equal(weights[k], again[k]) for k in weights)


@pytest.mark.parametrize(("native", "expected"), [(True, "bf16"), (False, "fp32")])
def test_precision_auto_is_bf16_where_the_device_computes_it_natively(
    tmp_path: Path, mnist_dir: Path, monkeypatch: pytest.MonkeyPatch, native: bool, expected: str
) -> None:
    monkeypatch.setattr(engine, "native_bf16", lambda device: native)
    assert resolve_precision("auto", torch.device("cpu")) == expected
    assert resolve_precision("fp16", torch.device("cpu")) == "fp16"  # an explicit choice stays
    _train(tmp_path / "run", mnist_dir, precision="auto", iterations=5)
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["run"]["train"]["precision"] == expected  # the record says what it trained in


def test_native_bf16_reads_the_cpu_flags(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import builtins

    real_open = builtins.open

    def cpuinfo(flags: str) -> Any:
        def fake(path: Any, *a: Any, **k: Any) -> Any:
            if str(path) == "/proc/cpuinfo":
                f = tmp_path / "cpuinfo"
                f.write_text(f"processor\t: 0\nflags\t\t: fpu sse2 {flags}\n")
                return real_open(f, *a, **k)
            return real_open(path, *a, **k)

        return fake

    monkeypatch.setattr(builtins, "open", cpuinfo("avx512f avx512_bf16"))
    assert engine.native_bf16(torch.device("cpu"))
    monkeypatch.setattr(builtins, "open", cpuinfo("avx2 avx512f avx512bw"))  # emulated, not native
    assert not engine.native_bf16(torch.device("cpu"))
    assert not engine.native_bf16(torch.device("meta"))


def test_fp16_keeps_the_gradient_scaler_in_the_checkpoint(tmp_path: Path, mnist_dir: Path) -> None:
    _train(tmp_path / "run", mnist_dir, precision="fp16", iterations=15)
    meta = json.loads(read_metadata(tmp_path / "run" / "checkpoint" / "state.safetensors")["state"])
    assert meta["scaler"]["scale"] > 0


def test_channels_last_trains_the_dcgan_to_the_same_weights_within_rounding(
    tmp_path: Path, mnist_dir: Path
) -> None:
    runs = {}
    for fmt in ("contiguous", "channels_last"):
        api.train(
            "dcgan",
            "mnist",
            recipe="seed-001-dcgan-mnist",  # source 001's settings: Adam 2e-4, no R1
            out=tmp_path / fmt,
            data_dir=mnist_dir,
            iterations=3,
            seed=0,
            device="cpu",
            precision="fp32",  # the tolerances below are fp32's
            sets=[
                f"memory_format={fmt}",
                "batch_size=16",
                "generator.base_channels=16",
                "discriminator.base_channels=8",
            ],
        )
        runs[fmt] = load_file(str(tmp_path / fmt / "generator.safetensors"))
    a, b = runs["contiguous"], runs["channels_last"]
    # Equal within rounding, and within what Adam can make of rounding: a conv bias in front of
    # BatchNorm has a true gradient of 0, so its gradient is rounding noise that Adam turns into
    # steps of ±lr (2e-4); three iterations move it at most 2 · 3 · lr apart.
    assert all(torch.allclose(a[k].float(), b[k].float(), rtol=1e-4, atol=2 * 3 * 2e-4) for k in a)
    close = [k for k in a if torch.allclose(a[k].float(), b[k].float(), rtol=1e-4, atol=1e-5)]
    assert len(close) >= len(a) - 1
    logs = [
        [json.loads(line) for line in (tmp_path / fmt / "metrics.jsonl").read_text().splitlines()]
        for fmt in ("contiguous", "channels_last")
    ]
    assert logs[0][-1]["g_loss"] == pytest.approx(logs[1][-1]["g_loss"], rel=1e-4)


def test_memory_format_auto_is_channels_last_for_conv_nets() -> None:
    images = DataSpec(shape=(1, 28, 28), modality="image")
    conv, mlp = nn.Conv2d(1, 2, 3), nn.Linear(2, 2)
    assert use_channels_last("auto", images, torch.device("cuda"), conv)
    assert not use_channels_last("auto", images, torch.device("cuda"), mlp)
    assert use_channels_last("auto", images, torch.device("cpu"), conv)  # measured: 1.5x for sources 000, 003
    assert not use_channels_last("auto", images, torch.device("cpu"), mlp)
    assert not use_channels_last("auto", images, torch.device("mps"), conv)
    assert use_channels_last("channels_last", images, torch.device("cpu"), mlp)
    assert not use_channels_last("contiguous", images, torch.device("cuda"), conv)
    with pytest.raises(UsageError, match="applies to images"):
        use_channels_last("channels_last", DataSpec(shape=(1, 64), modality="sequence"), torch.device("cpu"))


def test_a_compile_failure_is_one_sentence(
    tmp_path: Path, mnist_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Broken(nn.Module):
        def __init__(self, net: nn.Module) -> None:
            super().__init__()
            self.net = net

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            raise RuntimeError("InvalidCxxCompiler: No working C++ compiler found\nmore lines")

    monkeypatch.setattr(torch, "compile", Broken)
    with pytest.raises(UsageError) as err:
        _train(tmp_path / "run", mnist_dir, compile=True)
    message = str(err.value)
    assert message.startswith("--compile failed: torch.compile could not build the networks (InvalidCxx")
    assert "more lines" not in message and message.endswith("train without --compile.")


def test_a_compile_failure_names_what_the_backend_raised(
    tmp_path: Path, mnist_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(net: nn.Module) -> Any:
        def forward(x: torch.Tensor) -> torch.Tensor:
            raise RuntimeError(
                "backend='inductor' raised:\nAssertionError: no compiler\n\nSet TORCHDYNAMO_VERBOSE=1"
            )

        return forward

    monkeypatch.setattr(torch, "compile", broken)
    with pytest.raises(
        UsageError, match=r"networks \(backend='inductor' raised: AssertionError: no compiler\)"
    ):
        _train(tmp_path / "run", mnist_dir, compile=True)


@pytest.mark.slow
@pytest.mark.skipif(
    not any(shutil.which(c) for c in ("g++", "c++", "clang++")), reason="torch.compile needs a C++ compiler"
)
def test_compile_trains_the_same_networks(tmp_path: Path, mnist_dir: Path) -> None:
    # As a user runs it: a fresh process (torch.compile is sensitive to what a long test process
    # imported before, such as setuptools' distutils shim).
    runs = (("eager", []), ("compiled", ["--compile"]), ("penalty", ["--compile", "--loss", "wgan-gp"]))
    # (the gradient penalty differentiates D twice, which compiled graphs cannot: it runs D eagerly)
    for name, extra in runs:
        cmd = [sys.executable, "-m", "ganzoo", "train", "vanilla-mlp", "mnist", "--out", str(tmp_path / name)]
        cmd += ["--data-dir", str(mnist_dir), "--iterations", "5", "--seed", "3", "--device", "cpu", *extra]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
    a, b = (load_file(str(tmp_path / r / "generator.safetensors")) for r in ("eager", "compiled"))
    assert set(a) == set(b)  # saved under the plain module's names, not "_orig_mod."
    assert all(torch.allclose(a[k], b[k], rtol=1e-3, atol=1e-4) for k in a)


@pytest.mark.parametrize("fmt", ["channels_last", "contiguous"])
def test_a_channels_last_run_resumes_bit_for_bit(tmp_path: Path, mnist_dir: Path, fmt: str) -> None:
    """Adam's moments come back from the checkpoint in their weights' layout (they were saved
    NCHW; the fused kernel paired the wrong elements of channels-last weights)."""

    def train(out: Path, iterations: int) -> None:
        api.train(
            "dcgan", "mnist", recipe="seed-001-dcgan-mnist", out=out, data_dir=mnist_dir,
            iterations=iterations, seed=0, device="cpu", precision="fp32", checkpoint_every=2,
            sets=[f"memory_format={fmt}", "batch_size=16", "generator.base_channels=16",
                  "discriminator.base_channels=8"],
        )  # fmt: skip

    train(tmp_path / "straight", 4)
    train(tmp_path / "half", 2)
    api.train(None, None, resume=tmp_path / "half", iterations=4)
    for name in ("generator.safetensors", "discriminator.safetensors"):
        a, b = (load_file(str(tmp_path / run / name)) for run in ("straight", "half"))
        assert all(torch.equal(a[k], b[k]) for k in a), name


def test_sync_bn_with_a_gradient_penalty_is_refused_before_training() -> None:
    """SyncBatchNorm has no double backward (pytorch#61222): --sync-bn with R1 (or any penalty) on a D
    with BatchNorm is one sentence when the engine is built, before any process trains. A D without
    BatchNorm, or no penalty, passes this check (and meets the CUDA one on the CPU)."""
    from ganzoo import distributed
    from ganzoo.settings import TrainSettings

    spec = DataSpec((1, 28, 28), "image", (0.0, 1.0))
    g_cls, d_cls = (api_component(kind) for kind in ("generator", "discriminator"))
    s = TrainSettings(sync_bn=True)
    group = distributed.Group(rank=0, world=2)  # as under torchrun; the check needs no process group
    with pytest.raises(UsageError, match=r"--sync-bn cannot train with a gradient penalty \(r1\)"):
        engine.Engine(g_cls(spec, 100), d_cls(spec), s, spec, torch.device("cpu"), group, ("r1",))
    with pytest.raises(UsageError, match="--sync-bn needs CUDA devices"):
        engine.Engine(g_cls(spec, 100), d_cls(spec), s, spec, torch.device("cpu"), group, ())


def api_component(kind: str) -> Any:
    from ganzoo.build import lookup
    from ganzoo.manager import get_manager

    return lookup(get_manager(), kind, "dcgan")
