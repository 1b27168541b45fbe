"""benchmarks/gpu_check.sh, dry (GPU_CHECK_DRY=1: on the CPU, 2-iteration runs), as the GPU machine
will start it: in a fresh virtual environment that has the machine's torch but not ganzoo, so the
check's own install is what makes ganzoo and its built-in plugins importable. A failure is planted
in the resume check (GPU_CHECK_PLANT=resume: the resumed run starts from another seed) to show the
check catches it; the CUDA-only checks fail or are skipped on the CPU, saying why.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "mnist"


def fresh_venv(where: Path) -> Path:
    """A virtual environment with this one's packages (torch, numpy, setuptools...) but not ganzoo:
    they are linked into a folder its site-packages names in a .pth file, ganzoo's dist-info and
    editable finder left out. Returns its python."""
    subprocess.run([sys.executable, "-m", "venv", str(where / "venv")], check=True, timeout=300)
    site = next((where / "venv" / "lib").glob("python3*/site-packages"))
    for own in [
        *site.glob("setuptools*"),
        *site.glob("_distutils_hack"),
        *site.glob("distutils-precedence.pth"),
    ]:
        shutil.rmtree(own) if own.is_dir() else own.unlink()  # this environment's setuptools (>= 68)
    others = where / "others"
    others.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        name = entry.name.lower()
        if not name.startswith(("ganzoo", "__editable__", "pip")) and name != "distutils-precedence.pth":
            (others / entry.name).symlink_to(entry)
    (site / "others.pth").write_text(f"{others}\n")
    python = where / "venv" / "bin" / "python"
    hidden = subprocess.run([str(python), "-c", "import ganzoo"], capture_output=True, text=True, cwd=where)
    assert hidden.returncode != 0  # the point: ganzoo is not installed there
    return python


def run_check(python: Path, results: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "PYTHON": str(python), "GPU_CHECK_DRY": "1", "GPU_CHECK_DATA": str(FIXTURES)}
    environ.pop("PYTHONPATH", None)
    return subprocess.run(
        ["bash", str(ROOT / "benchmarks" / "gpu_check.sh"), str(results)],
        capture_output=True, text=True, timeout=1500, env={**environ, **env}, cwd=results.parent,
    )  # fmt: skip


def lines(results: Path) -> dict[str, str]:
    """Each check's line by its name: {"resume": "FAIL resume (exit 1): ..."}."""
    out = {}
    for line in results.read_text().splitlines():
        verdict, _, rest = line.partition(" ")
        if verdict in ("PASS", "FAIL", "SKIP"):
            out[rest.split(":")[0].split(" (")[0]] = line
    return out


def test_the_dry_check_installs_runs_every_check_and_catches_a_planted_failure(tmp_path: Path) -> None:
    python = fresh_venv(tmp_path)
    results = tmp_path / "results.txt"
    done = run_check(python, results, GPU_CHECK_PLANT="resume", GPU_CHECK_BUDGET="1200")
    text = results.read_text()
    assert "installed by pip into" in text
    assert "entry points ['architectures', 'datasets', 'losses', 'pretrained']" in text
    got = lines(results)
    failed = [name for name, line in got.items() if line.startswith("FAIL")]
    assert done.returncode == len(failed), (done.returncode, failed, text[-3000:])
    # On this CPU: no CUDA to pick, no pinned memory to stream through, no NCCL to start.
    assert set(failed) == {"device-auto", "resume", "streamed-pinned"}, text[-3000:]
    assert "resumed vs straight" in got["resume"] and "straight vs straight 0" in got["resume"]
    assert "the resumed run is not the straight one" in got["resume"]
    for name in ("device-missing", "recipe", "resume-cpu", "conditional", "eval", "syncs", "train-fp32",
                 "train-bf16", "deterministic", "memory-channels_last", "memory-contiguous",
                 "train-streamed", "bench-dcgan-128", "bench-zoo"):  # fmt: skip
        assert got[name].startswith("PASS"), got.get(name, text[-3000:])
    for name in ("train-fp16", "compile", "torchrun-nccl", "bench-dcgan-512"):
        assert got[name].startswith("SKIP"), got[name]
    assert all(re.match(r"PASS [\w-]+ \(\d+ s\): ", line) for line in got.values() if line.startswith("PASS"))
    assert "syncs per step: [0, 0" in got["syncs"]
    assert '"img_per_s"' in text  # the benchmarks' JSON, written as each one ends
    assert text.rstrip().splitlines()[-1].startswith("# 3 check(s) failed")


def test_the_check_keeps_to_its_budget_and_says_what_it_skipped(tmp_path: Path) -> None:
    python = fresh_venv(tmp_path)
    results = tmp_path / "results.txt"
    done = run_check(python, results, GPU_CHECK_BUDGET="1")
    got = lines(results)
    assert done.returncode == 0 and got, results.read_text()
    # skipped on a CPU whatever the budget (a dry run benchmarks batch 128 only)
    cpu_only = ("train-fp16", "compile", "torchrun-nccl", "bench-dcgan-512")
    budget = [line for name, line in got.items() if name not in cpu_only]
    assert budget and all(line.endswith("the 1 s budget is spent") for line in budget)
    assert not [line for line in got.values() if line.startswith(("PASS", "FAIL"))]
