"""Plugin packages as a stranger ships them: built into a wheel, installed, found, tested, trained.

Two packages go that way: what `ganzoo new-plugin` writes, and the example third-party plugin in
docs/examples/ganzoo-resnet (not part of ganzoo's wheel). Each is built with `pip wheel`,
installed with `pip install --target` into a folder that joins PYTHONPATH beside this ganzoo, and
must then show up in `ganzoo list`, pass its own tests and train.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from ganzoo.cli import cli

pytestmark = pytest.mark.slow

ROOT = Path(__file__).parents[2]


def run(*cmd: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        cmd, cwd=cwd, capture_output=True, text=True, env=env or os.environ.copy(), timeout=600
    )
    assert done.returncode == 0, (cmd, done.stdout[-2000:], done.stderr[-2000:])
    return done


def install_and_use(package: Path, tmp: Path, dist: str, arch: str, mnist: Path) -> None:
    """Build, install beside ganzoo, list, run the package's tests, train two steps on real digits."""
    run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--no-build-isolation",
        "-w",
        str(tmp / "dist"),
        ".",
        cwd=package,
    )
    wheel = next((tmp / "dist").glob(f"{dist.replace('-', '_')}-0.1.0-*.whl"))
    site = tmp / "site"
    run(sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(site), str(wheel), cwd=tmp)
    env = {**os.environ, "PYTHONPATH": str(site)}
    listed = json.loads(
        run(sys.executable, "-m", "ganzoo", "list", "generators", "--json", cwd=tmp, env=env).stdout
    )
    mine = [r for r in listed if r["name"] == arch]
    assert mine and mine[0]["dist"] == dist and mine[0]["version"] == "0.1.0"
    tests = run(
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        str(package / "tests"),
        cwd=tmp,
        env=env,
    )
    assert " passed" in tests.stdout and "failed" not in tests.stdout
    run(
        sys.executable, "-m", "ganzoo", "train", arch, "mnist", "--data-dir", str(mnist), "--iterations", "2",
        "--out", "run", "--device", "cpu", "--set", "batch_size=16", cwd=tmp, env=env,
    )  # fmt: skip
    assert (tmp / "run" / "generator.safetensors").is_file()


def test_the_template_passes_its_tests_installs_and_trains(tmp_path: Path, mnist_dir: Path) -> None:
    result = CliRunner().invoke(cli, ["new-plugin", "wide-mlp", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.stderr
    assert "pip install -e '.[test]' && pytest" in result.stdout
    install_and_use(tmp_path / "ganzoo-wide-mlp", tmp_path, "ganzoo-wide-mlp", "wide-mlp", mnist_dir)


def test_the_example_third_party_plugin_installs_and_trains(tmp_path: Path, mnist_dir: Path) -> None:
    package = tmp_path / "ganzoo-resnet"  # a copy: building writes into the source folder
    shutil.copytree(ROOT / "docs" / "examples" / "ganzoo-resnet", package)
    install_and_use(package, tmp_path, "ganzoo-resnet", "resnet", mnist_dir)
