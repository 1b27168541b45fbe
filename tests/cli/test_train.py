"""ganzoo train's output: --json prints one object and no progress."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from ganzoo.cli import cli

FIXTURE = Path(__file__).parents[1] / "fixtures" / "mnist"


def test_train_json_prints_one_object_and_no_progress(tmp_path: Path) -> None:
    args = ["train", "vanilla-mlp", "mnist", "--data-dir", str(FIXTURE), "--iterations", "10", "--seed", "0"]
    result = CliRunner().invoke(cli, [*args, "--device", "cpu", "--out", str(tmp_path / "run"), "--json"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["steps"] == 10 and record["run_dir"] == str(tmp_path / "run") and "g_loss" in record["last"]
