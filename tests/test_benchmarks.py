"""The benchmark scripts run: their smoke modes, as a user would start them (figures are never asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_zoo_smoke_prints_one_row_of_the_table(tmp_path: Path) -> None:
    saved = tmp_path / "zoo.json"
    done = subprocess.run(
        [sys.executable, "bench_zoo.py", "--smoke", "--save", str(saved)],
        cwd=ROOT / "benchmarks", capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if line.startswith("| vanilla-mlp-mnist |")]
    assert len(rows) == 1, done.stdout
    result = json.loads(saved.read_text())["recipes"]["vanilla-mlp-mnist"]
    for precision in ("fp32", "bf16"):
        # the default recipe's MLPs do about 0.8 GFLOP an iteration (R1 included)
        assert result[precision]["flops"] > 1e8 and result[precision]["ms"] > 0
    assert result["fp32"]["flops"] == result["bf16"]["flops"]


def test_bench_zoo_refuses_an_unknown_recipe_in_one_sentence() -> None:
    done = subprocess.run(
        [sys.executable, "bench_zoo.py", "--recipe", "no-such-recipe"],
        cwd=ROOT / "benchmarks", capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode != 0
    assert "no recipe named no-such-recipe" in done.stderr and "Traceback" not in done.stderr


def test_gpu_check_script_parses() -> None:
    """It runs only on a GPU machine; here its shell syntax and its Python half are checked."""
    assert subprocess.run(["bash", "-n", str(ROOT / "benchmarks" / "gpu_check.sh")]).returncode == 0
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "gpu_check.py"), "device"], capture_output=True, text=True
    )
    import torch

    if not torch.cuda.is_available():  # the check says the truth about this machine
        assert done.returncode != 0 and "not CUDA" in done.stderr
