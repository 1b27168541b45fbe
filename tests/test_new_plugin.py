"""`ganzoo new-plugin`: the package it writes passes its own tests, builds, installs and is found."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from ganzoo.cli import cli

pytestmark = pytest.mark.slow


def run(*cmd: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        cmd, cwd=cwd, capture_output=True, text=True, env=env or os.environ.copy(), timeout=600
    )
    assert done.returncode == 0, (cmd, done.stdout[-2000:], done.stderr[-2000:])
    return done


def test_the_template_passes_its_tests_installs_and_trains(tmp_path: Path, mnist_dir: Path) -> None:
    result = CliRunner().invoke(cli, ["new-plugin", "wide-mlp", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.stderr
    root = tmp_path / "ganzoo-wide-mlp"
    assert "pip install -e '.[test]' && pytest" in result.stdout

    # Its own tests, with the fixtures ganzoo's pytest11 entry point provides.
    tests = run(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=root)
    assert "2 passed" in tests.stdout

    # A wheel, installed beside ganzoo (into a folder on PYTHONPATH), found through its entry point.
    run(
        sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", "dist", ".", cwd=root
    )
    wheel = next((root / "dist").glob("ganzoo_wide_mlp-0.1.0-*.whl"))
    site = tmp_path / "site"
    run(sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(site), str(wheel), cwd=tmp_path)
    env = {**os.environ, "PYTHONPATH": str(site)}
    listed = json.loads(
        run(sys.executable, "-m", "ganzoo", "list", "generators", "--json", cwd=tmp_path, env=env).stdout
    )
    mine = [r for r in listed if r["name"] == "wide-mlp"]
    assert mine and mine[0]["dist"] == "ganzoo-wide-mlp" and mine[0]["version"] == "0.1.0"
    run(
        sys.executable, "-m", "ganzoo", "train", "wide-mlp", "mnist", "--data-dir", str(mnist_dir),
        "--iterations", "3", "--out", "run", "--device", "cpu", cwd=tmp_path, env=env,
    )  # fmt: skip
    assert (tmp_path / "run" / "generator.safetensors").is_file()


def test_new_plugin_refuses_a_bad_name_or_an_existing_folder(tmp_path: Path) -> None:
    bad = CliRunner().invoke(cli, ["new-plugin", "Wide_MLP", "--dir", str(tmp_path)])
    assert bad.exit_code == 2 and "is not a plugin name" in bad.stderr
    (tmp_path / "ganzoo-wide-mlp").mkdir()
    taken = CliRunner().invoke(cli, ["new-plugin", "ganzoo-wide-mlp", "--dir", str(tmp_path)])
    assert taken.exit_code == 2 and "already exists" in taken.stderr
    assert not any((tmp_path / "ganzoo-wide-mlp").iterdir())
