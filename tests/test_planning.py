"""Planning a run: a resume applies and records what it may change, and refuses the rest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ganzoo import api
from ganzoo.errors import UsageError

FIXTURE = Path(__file__).parent / "fixtures" / "mnist"


def short_run(out: Path, iterations: int = 20) -> Path:
    api.train(
        "vanilla-mlp", "mnist", out=out, data_dir=FIXTURE, iterations=iterations, seed=3, device="cpu",
        sample_every=10, sets=["log_every=5"],
    )  # fmt: skip
    return out


def test_a_resume_applies_the_settings_it_may_change_and_records_them(tmp_path: Path) -> None:
    run = short_run(tmp_path / "run")
    api.train(resume=run, iterations=30, sample_every=5, sets=["log_every=10"], threads=1)
    record = json.loads((run / "config.json").read_text())
    train = record["run"]["train"]
    assert (train["iterations"], train["sample_every"], train["log_every"], train["threads"]) == (
        30,
        5,
        10,
        1,
    )
    assert record["result"]["steps"] == 30 and record["iterations"] == 30
    (change,) = record["resumes"]
    assert change["step"] == 20
    assert change["changed"] == {
        "iterations": [20, 30],
        "sample_every": [10, 5],
        "log_every": [5, 10],
        "threads": [None, 1],
    }
    grids = sorted(p.name for p in (run / "samples").glob("step-*.png"))
    assert grids[-3:] == ["step-0000020.png", "step-0000025.png", "step-0000030.png"]


def test_a_resume_that_repeats_the_recorded_settings_changes_nothing(tmp_path: Path) -> None:
    run = short_run(tmp_path / "run")
    api.train("vanilla-mlp", "mnist", resume=run, iterations=20, seed=3, batch_size=128, loss="bce")
    assert json.loads((run / "config.json").read_text())["resumes"] == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"batch_size": 64}, "was trained with --batch-size 128; --resume cannot change it to 64"),
        ({"seed": 4}, "was trained with --seed 3"),
        ({"lr_g": 0.01}, "--lr-g 0.002"),
        ({"sets": ["d_update=joint"]}, "d_update split; --resume cannot change it to joint"),
        ({"sets": ["loss.label_smoothing=0.1"]}, "loss.label_smoothing 0.0"),
        ({"dataset": "fashion-mnist"}, "the dataset mnist"),
        ({"recipe": "seed-001-dcgan-svhn"}, "the recipe vanilla-mlp-mnist"),
        ({"iterations": 10}, "has trained 20 iterations already; asking for 10 in all would undo them"),
        ({"epochs": 0.01}, "has trained 20 iterations already; asking for 1 in all"),
    ],
)
def test_a_resume_refuses_what_would_change_the_run(tmp_path: Path, options: dict, message: str) -> None:
    run = short_run(tmp_path / "run")
    before = (run / "config.json").read_text()
    with pytest.raises(UsageError, match=message):
        api.train(resume=run, **options)
    assert (run / "config.json").read_text() == before
