"""The speed settings change how fast a run goes, never what it computes beyond what they promise:
ganzoo's Adam is torch's to the bit, mixed precision trains and resumes exactly, channels-last and
torch.compile run the same networks, and torchrun's ranks draw disjoint shares of every batch."""

from __future__ import annotations

import json
import os
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
from ganzoo.devices import set_cpu_threads, usable_cores
from ganzoo.errors import UsageError
from ganzoo.files import read_metadata
from ganzoo.optim import FusedAdam
from ganzoo.training.batches import TensorBatches
from ganzoo.training.engine import use_channels_last


def _nets() -> tuple[nn.Module, nn.Module]:
    torch.manual_seed(0)
    a = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 2))
    b = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 2))
    b.load_state_dict(a.state_dict())
    return a, b


def _steps(net: nn.Module, opt: torch.optim.Optimizer, n: int, skip_bias: bool = False) -> None:
    g = torch.Generator().manual_seed(1)
    for i in range(n):
        opt.zero_grad(set_to_none=True)
        net(torch.randn(4, 6, generator=g)).pow(2).mean().backward()
        if skip_bias and i % 2:  # a parameter without a gradient this step: Adam leaves it alone
            net[2].bias.grad = None
        opt.step()


def test_fused_adam_is_torchs_adam_bit_for_bit() -> None:
    mine, theirs = _nets()
    opt_a = FusedAdam(mine.parameters(), lr=1e-2, betas=(0.5, 0.9), weight_decay=1e-3)
    opt_b = torch.optim.Adam(theirs.parameters(), lr=1e-2, betas=(0.5, 0.9), weight_decay=1e-3, fused=True)
    _steps(mine, opt_a, 5)
    _steps(theirs, opt_b, 5)
    for opt in (opt_a, opt_b):  # a learning-rate change goes through
        opt.param_groups[0]["lr"] = 3e-3
    _steps(mine, opt_a, 5, skip_bias=True)
    _steps(theirs, opt_b, 5, skip_bias=True)
    assert all(torch.equal(p, q) for p, q in zip(mine.parameters(), theirs.parameters(), strict=True))
    # The same state: a checkpoint of one loads into the other and both go on alike.
    opt_c = torch.optim.Adam(theirs.parameters(), lr=3e-3, fused=True)
    opt_c.load_state_dict(opt_a.state_dict())
    assert opt_c.state_dict()["state"][0]["step"] == opt_b.state_dict()["state"][0]["step"] == 10


def test_tensor_batches_give_each_rank_a_disjoint_share(tmp_path: Path) -> None:
    data = torch.arange(100.0).view(100, 1)
    for order in ("random", "shuffle", "sequential"):
        alone = TensorBatches(data, order, torch.Generator().manual_seed(3))
        ranks = [TensorBatches(data, order, torch.Generator().manual_seed(3), r, 2) for r in range(2)]
        for _ in range(5):  # across epoch ends too (shuffle, sequential: 40 of 100 per step)
            whole = alone.next(20 * 2)
            shares = [r.next(20) for r in ranks]
            assert torch.equal(torch.cat(shares), whole)
            if order != "random":  # drawn without replacement: no sample on two ranks
                assert not set(shares[0].flatten().tolist()) & set(shares[1].flatten().tolist())


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
    _train(fp32, mnist_dir)
    assert load_file(str(fp32 / "generator.safetensors"))["net.2.weight"].ne(weights["net.2.weight"]).any()

    # Stopped after the checkpoint at 15 and resumed: the gradient scaler's state (fp16) comes back.
    half = tmp_path / "half"
    _train(half, mnist_dir, precision=precision, iterations=15)
    api.train(None, None, resume=half, iterations=30)
    again = load_file(str(half / "generator.safetensors"))
    assert all(torch.equal(weights[k], again[k]) for k in weights)


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
            out=tmp_path / fmt,
            data_dir=mnist_dir,
            iterations=3,
            seed=0,
            device="cpu",
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


def test_memory_format_auto_is_channels_last_for_conv_nets_on_cuda_only() -> None:
    images = DataSpec(shape=(1, 28, 28), modality="image")
    conv, mlp = nn.Conv2d(1, 2, 3), nn.Linear(2, 2)
    assert use_channels_last("auto", images, torch.device("cuda"), conv)
    assert not use_channels_last("auto", images, torch.device("cuda"), mlp)
    assert not use_channels_last("auto", images, torch.device("cpu"), conv)  # measured: no gain on the CPU
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


def test_threads_follow_the_usable_cores_unless_omp_num_threads_is_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = torch.get_num_threads()
    try:
        monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)
        assert usable_cores() == 1
        monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
        assert set_cpu_threads() == 1
        torch.set_num_threads(2)
        monkeypatch.setenv("OMP_NUM_THREADS", "2")
        assert set_cpu_threads() == 2  # the user's setting wins
    finally:
        torch.set_num_threads(before)
