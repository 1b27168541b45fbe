"""ganzoo completion: the scripts for each shell, and component names completed from the registry."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from ganzoo.cli import cli

FIXTURE = Path(__file__).parents[1] / "fixtures" / "mnist"


def test_completion_scripts_and_component_names() -> None:
    for shell, marker in (
        ("bash", "complete -o nosort -F"),
        ("zsh", "#compdef ganzoo"),
        ("fish", "complete"),
    ):
        result = CliRunner().invoke(cli, ["completion", shell])
        assert result.exit_code == 0 and marker in result.output and "_GANZOO_COMPLETE" in result.output
    env = {
        **os.environ,
        "_GANZOO_COMPLETE": "bash_complete",
        "COMP_WORDS": "ganzoo train van",
        "COMP_CWORD": "2",
    }
    out = subprocess.run([sys.executable, "-m", "ganzoo"], env=env, capture_output=True, text=True).stdout
    assert "plain,vanilla-mlp" in out.splitlines()
    env.update(COMP_WORDS="ganzoo train vanilla-mlp --loss wg", COMP_CWORD="4")
    out = subprocess.run([sys.executable, "-m", "ganzoo"], env=env, capture_output=True, text=True).stdout
    assert out.splitlines() == ["plain,wgan-gp"]
