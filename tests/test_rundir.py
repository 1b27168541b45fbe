"""The run directory: one Run type, its typed record, and records of older runs still read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ganzoo import api
from ganzoo.errors import RunDirError, UsageError
from ganzoo.record import RunRecord
from ganzoo.rundir import Run, read_log, read_log_counted, trim_log

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


def test_a_folder_left_by_a_run_killed_before_its_first_checkpoint_says_so(run: Run, tmp_path: Path) -> None:
    """SIGKILL before the first checkpoint leaves config.json and a log, and nothing to resume."""
    killed = tmp_path / "killed"
    killed.mkdir()
    for name in ("config.json", "metrics.jsonl"):
        (killed / name).write_bytes((run.path / name).read_bytes())
    with pytest.raises(
        UsageError, match="holds a run that stopped before its first checkpoint, so it cannot"
    ):
        Run(killed).check_new(force=False)
    Run(killed).check_new(force=True)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda d: d["run"]["train"].update(batch_size="x"),
            "run.train.batch_size must be a positive whole number, got 'x'.",
        ),
        (
            lambda d: d["run"]["train"].update(batch_size=-1),
            "run.train.batch_size must be a positive whole number, got -1.",
        ),
        (lambda d: d["run"]["train"].update(prior="cauchy"), "run.train.prior must be one of"),
        (lambda d: d["run"].pop("generator"), "run.generator is missing."),
        (lambda d: d.pop("seed"), "seed is missing."),
        (
            lambda d: d["data"].update(shape=[1, "a"]),
            "data.shape must be a list of positive sizes, got [1, 'a'].",
        ),
        (lambda d: d["result"].update(steps="ten"), "result.steps must be a whole number, got 'ten'."),
        (lambda d: d.update(run=3), "run must be a JSON object, got 3."),
    ],
)
def test_a_bad_value_in_config_json_names_the_file_and_the_key(
    run: Run, tmp_path: Path, edit: Any, message: str
) -> None:
    doc = run.config
    edit(doc)
    (tmp_path / "config.json").write_text(json.dumps(doc))
    with pytest.raises(RunDirError) as err:
        Run.open(tmp_path)
    assert str(err.value).startswith(f"{tmp_path / 'config.json'} is damaged or not a ganzoo run config: ")
    assert message in str(err.value) and "\n" not in str(err.value)


def test_a_config_json_that_is_not_utf8_is_one_sentence(run: Run, tmp_path: Path) -> None:
    (tmp_path / "config.json").write_bytes(run.file("config.json").read_bytes()[:40] + b"\xff\xfe\x80")
    with pytest.raises(
        RunDirError, match=r"config\.json is damaged or not a ganzoo run config: it is not JSON\."
    ):
        Run.open(tmp_path)


def test_the_log_skips_and_counts_damaged_lines(tmp_path: Path) -> None:
    log = tmp_path / "metrics.jsonl"
    log.write_bytes(
        b'{"step": 10, "g_loss": 1.0}\n'
        b"\xff\xfe\x80 not utf-8\n"  # random bytes
        b"[1, 2]\n"  # JSON, but not one of ganzoo's lines
        b'{"step": "x", "g_loss": 2.0}\n'
        b'{"step": Infinity}\n'
        b'{"step": 20, "g_loss": 0.5}\n'
        b'{"step": 30, "g_lo'  # cut by a kill: skipped, not counted as damage
    )
    assert read_log(log) == [{"step": 10, "g_loss": 1.0}, {"step": 20, "g_loss": 0.5}]
    assert read_log_counted(log) == (read_log(log), 4)
    assert read_log_counted(tmp_path / "none.jsonl") == ([], 0)


def test_trimming_the_log_for_a_resume_keeps_whole_lines_up_to_the_step(tmp_path: Path) -> None:
    log = tmp_path / "metrics.jsonl"
    log.write_bytes(b'{"step": 10}\n\xff\xfe\n{"step": 20, "eval": {"fd": 1.0}}\n{"step": 30}\n{"step": 4')
    trim_log(log, 20)
    assert log.read_bytes() == b'{"step": 10}\n{"step": 20, "eval": {"fd": 1.0}}\n'
    assert not list(tmp_path.glob(".*tmp"))  # replaced atomically


def test_a_run_recorded_with_a_seed_above_2_32_still_reads_and_resumes(run: Run, tmp_path: Path) -> None:
    """Seeds stopped at 2^32 - 1 after runs had been recorded with larger ones (up to 2^64 - 1)."""
    import shutil

    old = tmp_path / "old"
    shutil.copytree(run.path, old)
    doc = json.loads((old / "config.json").read_text())
    doc["run"]["train"]["seed"] = 2**40
    (old / "config.json").write_text(json.dumps(doc))
    assert Run.open(old).record.config.train.seed == 2**40
    resumed = api.train(resume=old, iterations=run.steps + 2)
    assert resumed.steps == run.steps + 2 and resumed.record.seed == doc["seed"]
