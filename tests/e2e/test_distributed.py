"""`torchrun --nproc-per-node 2 -m ganzoo train` on the CPU (gloo): trains, rank 0 alone writes, resumes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import ganzoo
from ganzoo.files import read_metadata

pytestmark = pytest.mark.slow

# Each rank saves the generator it ends with, so the test can see that both ranks hold the same one.
SPY = """
import os, sys
from safetensors.torch import save_file
from ganzoo.training import loop
fit = loop.Trainer.fit
def spy(self, resume=False):
    result = fit(self, resume)
    rank = os.environ["RANK"]
    name = f"{self.run.path.name}-rank{rank}.safetensors"
    save_file({k: v.contiguous() for k, v in self.engine.G.state_dict().items()}, name)
    return result
loop.Trainer.fit = spy
from ganzoo.cli import main
sys.argv = ["ganzoo", *sys.argv[1:]]
main()
"""


def torchrun(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd, timeout=300)


def load_g(path: Path) -> dict[str, torch.Tensor]:
    return load_file(str(path))


def test_two_cpu_processes_train_one_run_and_resume_it_exactly(tmp_path: Path, mnist_dir: Path) -> None:
    (tmp_path / "spy.py").write_text(SPY)
    common = ["--data-dir", str(mnist_dir), "--seed", "0", "--device", "cpu", "--set", "log_every=10"]
    done = torchrun(
        tmp_path, "spy.py", "train", "vanilla-mlp", "mnist", "--out", "run", "--iterations", "40", *common
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("trained 40 iterations") == 1  # rank 0 speaks for both
    run = tmp_path / "run"
    config = json.loads((run / "config.json").read_text())
    assert config["world_size"] == 2 and config["result"]["steps"] == 40
    # DDP averages the gradients over the ranks, so both end with the same generator although
    # each trained on its own half of every batch.
    a, b = load_g(tmp_path / "run-rank0.safetensors"), load_g(tmp_path / "run-rank1.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)
    saved = load_g(run / "generator.safetensors")
    assert all(torch.equal(a[k], saved[k]) for k in a)
    steps = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert steps == [10, 20, 30, 40]  # one writer: no line twice

    # Stopped at 25 and resumed to 40: every rank's noise stream and batch draws continue where
    # they were, so the generator is the one of the straight run, bit for bit.
    short = torchrun(
        tmp_path, "spy.py", "train", "vanilla-mlp", "mnist", "--out", "short", "--iterations", "25", *common
    )
    assert short.returncode == 0, short.stderr[-3000:]
    resumed = torchrun(tmp_path, "spy.py", "train", "--resume", "short", "--iterations", "40")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    lines = (tmp_path / "short" / "metrics.jsonl").read_text().splitlines()
    steps = [json.loads(line)["step"] for line in lines]
    assert steps == [10, 20, 25, 30, 40]
    again = load_g(tmp_path / "short-rank0.safetensors")
    assert all(torch.equal(a[k], again[k]) for k in a)
    last = json.loads((run / "metrics.jsonl").read_text().splitlines()[-1])
    last_resumed = json.loads((tmp_path / "short" / "metrics.jsonl").read_text().splitlines()[-1])
    assert last["g_loss"] == last_resumed["g_loss"]


def test_a_conditional_run_on_two_processes_resumes_exactly(tmp_path: Path, mnist_dir: Path) -> None:
    """Each rank's share of a batch keeps its labels; ACGAN's classifier term trains under DDP too."""
    (tmp_path / "spy.py").write_text(SPY)
    common = ["--data-dir", str(mnist_dir), "--seed", "0", "--device", "cpu", "--conditional"]
    common += ["--set", "log_every=5", "--set", "loss.acgan=0.5"]
    args = ["spy.py", "train", "vanilla-mlp", "mnist", *common]
    done = torchrun(tmp_path, *args, "--out", "run", "--iterations", "20")
    assert done.returncode == 0, done.stderr[-3000:]
    a, b = load_g(tmp_path / "run-rank0.safetensors"), load_g(tmp_path / "run-rank1.safetensors")
    assert "embed.weight" in a and all(torch.equal(a[k], b[k]) for k in a)
    short = torchrun(tmp_path, *args, "--out", "short", "--iterations", "10")
    assert short.returncode == 0, short.stderr[-3000:]
    resumed = torchrun(tmp_path, "spy.py", "train", "--resume", "short", "--iterations", "20")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    again = load_g(tmp_path / "short-rank0.safetensors")
    assert all(torch.equal(a[k], again[k]) for k in a)


@pytest.mark.parametrize("order", ["joint", "concat"])
def test_dcgan_with_batchnorm_and_r1_trains_on_two_processes_for_the_jobs_epochs(
    tmp_path: Path, mnist_dir: Path, order: str
) -> None:
    """The dcgan recipe's D (BatchNorm after its second conv) sees the real and the fake batch in
    two forwards (joint) or one (concat) before one backward, with lazy R1; each rank keeps its own
    BatchNorm statistics (broadcast_buffers=False) while DDP keeps the weights equal. --epochs counts
    passes over the data by the whole job: 2 processes of batch 16 take 256 / 32 = 8 steps an epoch."""
    (tmp_path / "spy.py").write_text(SPY)
    done = torchrun(
        tmp_path, "spy.py", "train", "dcgan", "mnist", "--out", "run", "--epochs", "2", "--batch-size", "16",
        "--data-dir", str(mnist_dir), "--seed", "0", "--device", "cpu", "--set", f"d_update={order}",
        "--set", "log_every=4", "--precision", "fp32",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["iterations"] == 16 and config["result"]["steps"] == 16
    assert config["run"]["params"]["loss"]["r1"] > 0  # the recipe's R1 ran under DDP
    a, b = load_g(tmp_path / "run-rank0.safetensors"), load_g(tmp_path / "run-rank1.safetensors")
    weights = [k for k in a if not k.endswith(("running_mean", "running_var", "num_batches_tracked"))]
    assert all(torch.equal(a[k], b[k]) for k in weights)
    means = [k for k in a if k.endswith("running_mean")]
    assert means and any(not torch.equal(a[k], b[k]) for k in means)  # each rank's own batches


def test_sync_bn_on_the_cpu_is_one_sentence(tmp_path: Path, mnist_dir: Path) -> None:
    args = ["-m", "ganzoo", "train", "dcgan", "mnist", "--sync-bn", "--device", "cpu"]
    args += ["--data-dir", str(mnist_dir), "--iterations", "2", "--out", "run"]
    # The dcgan recipe's R1 differentiates D twice, which SyncBatchNorm cannot: said first, on any device.
    done = torchrun(tmp_path, *args)
    assert done.returncode != 0
    assert "--sync-bn cannot train with a gradient penalty (r1)" in " ".join(done.stderr.split())
    done = torchrun(tmp_path, *args, "--set", "loss.r1=0")
    assert done.returncode != 0
    assert "--sync-bn needs CUDA devices" in done.stderr
    # torchrun reports its failed children with a traceback of its own launcher; no frame is ganzoo's
    # (its package folder, wherever the checkout lies: a checkout called ganzoo/ holds the venv too).
    package = str(Path(ganzoo.__file__).resolve().parent) + os.sep
    frames = [ln for ln in done.stderr.splitlines() if ln.strip().startswith("File ")]
    assert not [ln for ln in frames if package in ln or "/ganzoo/plugins/" in ln]
    assert not (tmp_path / "run" / "checkpoint").exists()


def test_ctrl_c_on_torchrun_stops_every_rank_at_one_step_with_one_checkpoint(
    tmp_path: Path, mnist_dir: Path
) -> None:
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]
    cmd += ["-m", "ganzoo", "train", "vanilla-mlp", "mnist", "--out", "run", "--iterations", "1000000"]
    cmd += ["--data-dir", str(mnist_dir), "--seed", "0", "--device", "cpu", "--set", "log_every=10"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    metrics = tmp_path / "run" / "metrics.jsonl"
    deadline = time.monotonic() + 120
    while not (metrics.exists() and metrics.read_text().count("\n") >= 2) and time.monotonic() < deadline:
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)  # what Ctrl-C in the terminal sends torchrun
    _, err = proc.communicate(timeout=120)
    assert proc.returncode != 0
    assert err.count("error: Stopped by SIGINT at step") == 1, err[-3000:]  # rank 0 speaks for both
    step = int(err.split("error: Stopped by SIGINT at step ")[1].split()[0])
    saved = read_metadata(tmp_path / "run" / "checkpoint" / "state.safetensors")
    assert json.loads(saved["state"])["step"] == step  # rank 0 wrote the step both agreed on
