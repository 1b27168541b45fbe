"""The command line as a user meets it: click's CliRunner for output, subprocesses for imports."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch
from click.testing import CliRunner

import ganzoo
from ganzoo.cli import cli


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    "argv", [["list"], ["--help"], ["list", "recipes"], ["plugins", "--all"], ["show", "--help"]]
)
def test_light_commands_never_import_torch(argv: list[str]) -> None:
    code = (
        "import sys\n"
        "from ganzoo.cli import cli\n"
        f"try:\n    cli({argv!r}, prog_name='ganzoo')\n"
        "except SystemExit as e:\n    assert not e.code, e.code\n"
        "heavy = [m for m in ('torch', 'torchvision', 'numpy', 'matplotlib') if m in sys.modules]\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
        "sys.exit(1 if heavy else 0)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ.copy())
    assert proc.returncode == 0, proc.stderr


def test_python_dash_m_works() -> None:
    proc = subprocess.run([sys.executable, "-m", "ganzoo", "--version"], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.startswith("ganzoo ")


def test_version_names_ganzoo_torch_and_the_device() -> None:
    out = CliRunner().invoke(cli, ["--version"]).output
    assert out.startswith(f"ganzoo {ganzoo.__version__}\ntorch {torch.__version__}")
    assert "device: cpu" in out or "device: cuda" in out or "device: mps" in out
