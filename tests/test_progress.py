"""Progress output: plain lines, no control codes, when nothing is a terminal."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

FIXTURE = Path(__file__).parent / "fixtures" / "mnist"


def test_output_through_a_pipe_has_no_control_codes(tmp_path: Path) -> None:
    env = {**os.environ, "TERM": "xterm-256color", "FORCE_COLOR": ""}
    env.pop("FORCE_COLOR")
    cmd = [sys.executable, "-m", "ganzoo", "train", "vanilla-mlp", "mnist", "--data-dir", str(FIXTURE)]
    cmd += ["--iterations", "20", "--seed", "0", "--device", "cpu", "--out", str(tmp_path / "run")]
    cmd += ["--set", "log_every=5"]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    both = done.stdout + done.stderr
    assert "step 20/20" in both and "\x1b" not in both and "\r" not in both
    for argv in (["list"], ["show", str(tmp_path / "run")], ["train", "nope", "mnist"]):
        proc = subprocess.run(
            [sys.executable, "-m", "ganzoo", *argv], capture_output=True, text=True, env=env
        )
        assert "\x1b" not in proc.stdout + proc.stderr
    assert "error: Unknown generator 'nope'" in proc.stderr
