"""The run directory: one Run type, its typed record, and records of older runs still read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ganzoo import api
from ganzoo.errors import RunDirError, UsageError
from ganzoo.record import RunRecord
from ganzoo.rundir import Run

FIXTURE = Path(__file__).parent / "fixtures" / "mnist"


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    out = tmp_path_factory.mktemp("rundir") / "run"
    return api.train("vanilla-mlp", "mnist", out=out, data_dir=FIXTURE, iterations=10, seed=5, device="cpu")


def test_train_returns_the_run_and_its_record_reads_back(run: Run) -> None:
    assert isinstance(run, Run) and run.steps == 10 and run.seconds > 0
    record = Run.open(run.path).record
    assert record.seed == 5 and record.config.dataset == "mnist" and record.data.shape == (1, 28, 28)
    assert record.result is not None and record.result.steps == 10 and set(run.last) >= {"d_loss", "g_loss"}
    assert RunRecord.from_json(record.to_json()) == record
    assert run.config["run"]["train"]["seed"] == 5  # config.json as a dict, as the API documents


def test_a_record_from_before_ganzoo_0_2_is_read(run: Run, tmp_path: Path) -> None:
    doc = run.config
    doc["data"]["kind"] = doc["data"].pop("modality")
    for key in ("resumes", "iterations", "world_size"):
        del doc[key]
    doc["seconds"] = 1.5  # an old top-level field, ignored now
    (tmp_path / "config.json").write_text(json.dumps(doc))
    record = Run.open(tmp_path).record
    assert record.data.modality == "image" and record.resumes == [] and record.world_size == 1


def test_a_folder_that_is_not_a_run_is_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(RunDirError, match="is not a run directory"):
        Run.open(tmp_path / "nowhere")
    with pytest.raises(RunDirError, match=r"has no config\.json"):
        Run.open(tmp_path)
    (tmp_path / "config.json").write_text('{"run": {"generator": "x"}}')
    with pytest.raises(RunDirError, match="is damaged or not a ganzoo run config"):
        Run.open(tmp_path)


def test_a_new_run_needs_an_empty_folder_unless_forced(tmp_path: Path) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(UsageError, match="already exists and is not empty"):
        Run(tmp_path / "full").check_new(force=False)
    Run(tmp_path / "full").check_new(force=True)
    first = Run.default_path(tmp_path, "vanilla-mlp", "mnist")
    first.mkdir()
    assert Run.default_path(tmp_path, "vanilla-mlp", "mnist").name == first.name + "-2"
