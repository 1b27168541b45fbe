"""``ganzoo compare``: the settings that differ, progress, figures side by side, the best marked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from ganzoo import api
from ganzoo.cli import cli
from ganzoo.compare import compare


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("compare")
    fixture = Path(__file__).parent / "fixtures" / "mnist"
    common = {"data_dir": fixture, "iterations": 10, "seed": 0, "device": "cpu", "sets": ["log_every=5"]}
    api.train("vanilla-mlp", "mnist", out=root / "slow", lr_g=1e-4, **common)
    api.train("vanilla-mlp", "mnist", out=root / "fast", lr_g=1e-3, **common)
    return root / "slow", root / "fast"


def test_only_the_settings_that_differ_are_columns(two_runs: tuple[Path, Path]) -> None:
    result = compare(list(two_runs))
    columns = result["columns"]
    assert columns[:2] == ["run", "train.lr_g"] and "train.batch_size" not in columns
    assert [r["train.lr_g"] for r in result["rows"]] == [1e-4, 1e-3]
    assert [r["run"] for r in result["rows"]] == ["slow", "fast"] and all(
        r["steps"] == 10 for r in result["rows"]
    )
    assert "g_loss" in columns and "seconds" in result["best"]  # time ranks; a GAN's losses do not
    assert "g_loss" not in result["best"]


def test_eval_figures_are_ranked_only_when_measured_alike(
    two_runs: tuple[Path, Path], tmp_path: Path
) -> None:
    slow, fast = two_runs
    for run in two_runs:
        api.evaluate(run, n=40, batch_size=20)
    assert json.loads((slow / "eval.json").read_text())["steps"] == 10
    result = compare([slow, fast])
    fds = [r["eval.fd"] for r in result["rows"]]
    assert result["best"]["eval.fd"] == fds.index(min(fds))
    assert result["best"]["eval.recall"] == [r["eval.recall"] for r in result["rows"]].index(
        max(r["eval.recall"] for r in result["rows"])
    )
    api.evaluate(fast, n=60, batch_size=20)  # another protocol: nothing to rank
    result = compare([slow, fast])
    assert not any(k.startswith("eval.") for k in result["best"]) and "measured differently" in result["note"]
    assert [r["eval_by"] for r in result["rows"]] == [
        "ganzoo eval, 40 samples, seed 0, moving average (--ema)",
        "ganzoo eval, 60 samples, seed 0, moving average (--ema)",
    ]


def test_the_command_prints_the_runs_side_by_side_and_draws_their_samples(
    two_runs: tuple[Path, Path], tmp_path: Path
) -> None:
    grid = tmp_path / "both.png"
    args = ["compare", *map(str, two_runs), "-o", str(grid), "-n", "5"]
    result = CliRunner().invoke(cli, args, terminal_width=160)
    assert result.exit_code == 0, result.output
    assert "slow" in result.output and "fast" in result.output and "lr_g" in result.output
    assert "* the best of its row (wall s lower" in result.output
    assert Image.open(grid).size == (5 * 30 + 2, 2 * 30 + 2)  # a row a run, 5 samples each
    as_json = CliRunner().invoke(cli, ["compare", *map(str, two_runs), "--json"])
    assert json.loads(as_json.output)["columns"][1] == "train.lr_g"


def test_a_run_on_other_data_differs_in_its_data(two_runs: tuple[Path, Path], picture_run: Path) -> None:
    columns = compare([two_runs[0], picture_run])["columns"]
    assert "dataset" in columns and "params.dataset.image_size" in columns


def test_compare_reads_runs_without_torch(two_runs: tuple[Path, Path]) -> None:
    import subprocess
    import sys

    runs = [str(p) for p in two_runs]
    code = f"import sys; from ganzoo.compare import compare; compare({runs}); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
