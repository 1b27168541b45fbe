"""`torchrun --nproc-per-node 2 -m ganzoo train` on the CPU (gloo): trains, rank 0 alone writes, resumes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

pytestmark = pytest.mark.slow

# Each rank saves the generator it ends with, so the test can see that both ranks hold the same one.
SPY = """
import os, sys
from safetensors.torch import save_file
from ganzoo import trainer
finish = trainer.Trainer._finish
def spy(self, last, seconds):
    rank = os.environ["RANK"]
    save_file({k: v.contiguous() for k, v in self.G.state_dict().items()}, f"rank{rank}.safetensors")
    finish(self, last, seconds)
trainer.Trainer._finish = spy
from ganzoo.cli import main
sys.argv = ["ganzoo", *sys.argv[1:]]
main()
"""


def torchrun(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd, timeout=300)


def test_two_cpu_processes_train_one_run_and_resume_it(tmp_path: Path, mnist_dir: Path) -> None:
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
    # Gradients are averaged over the ranks, so both end with the same generator although each
    # drew its own batches.
    a, b = (load_file(str(tmp_path / f"rank{r}.safetensors")) for r in (0, 1))
    assert all(torch.equal(a[k], b[k]) for k in a)
    saved = load_file(str(run / "generator.safetensors"))
    assert all(torch.equal(a[k], saved[k]) for k in a)
    steps = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert steps == [10, 20, 30, 40]  # one writer: no line twice

    resumed = torchrun(tmp_path, "-m", "ganzoo", "train", "--resume", "run", "--iterations", "60")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    steps = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert steps == [10, 20, 30, 40, 50, 60]
    assert json.loads((run / "config.json").read_text())["result"]["steps"] == 60
