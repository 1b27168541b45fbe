"""Reporters: a user's, passed to ganzoo.train, and a plugin's, added by name with --report."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import pytest
from click.testing import CliRunner
from PIL import Image

import ganzoo
from ganzoo import api, hookimpl
from ganzoo.cli import cli
from ganzoo.errors import UnknownComponentError, UsageError
from ganzoo.testing import registered
from ganzoo.training import Reporter

FIXTURE = Path(__file__).parents[1] / "fixtures" / "mnist"


class Recorder(Reporter):
    """Writes down each event it sees, with the step."""

    events: ClassVar[list[tuple[str, int]]] = []

    def on_run_start(self, trainer: Any, resumed: bool) -> None:
        Recorder.events.append(("start", trainer.step))

    def on_step_logged(self, trainer: Any, figures: dict[str, float]) -> None:
        assert {"d_loss", "g_loss", "d_real", "d_fake"} <= set(figures)
        Recorder.events.append(("logged", trainer.step))

    def on_samples_due(self, trainer: Any) -> None:
        images = trainer.sample(trainer.fixed_z)
        assert images.shape[1:] == (1, 28, 28) and float(images.min()) >= 0 and float(images.max()) <= 1
        Recorder.events.append(("samples", trainer.step))

    def on_run_end(self, trainer: Any, result: Any) -> None:
        Recorder.events.append(("end", result.steps))


class RecorderPlugin:
    @hookimpl
    def register_reporters(self, register: Any) -> None:
        register("recorder", Recorder, "Writes down the loop's events.")


@pytest.fixture(autouse=True)
def fresh() -> None:
    Recorder.events = []


def test_a_users_reporter_sees_the_events_in_order(tmp_path: Path) -> None:
    api.train(
        "vanilla-mlp", "mnist", out=tmp_path / "run", data_dir=FIXTURE, iterations=20, seed=0, device="cpu",
        sample_every=10, sets=["log_every=5"], reporters=[Recorder()],
    )  # fmt: skip
    assert Recorder.events == [
        ("start", 0),
        ("logged", 5),
        ("logged", 10),
        ("samples", 10),
        ("logged", 15),
        ("logged", 20),
        ("samples", 20),
        ("end", 20),
    ]


def test_a_plugins_reporter_is_added_by_name_and_listed(tmp_path: Path) -> None:
    with registered(RecorderPlugin(), name="recorder", dist="ganzoo-recorder"):
        listed = CliRunner().invoke(cli, ["list", "reporters"])
        assert "recorder" in listed.output and "ganzoo-recorder" in listed.output
        argv = ["train", "vanilla-mlp", "mnist", "--data-dir", str(FIXTURE), "--iterations", "10"]
        argv += ["--seed", "0", "--device", "cpu", "--out", str(tmp_path / "run"), "--report", "recorder"]
        result = CliRunner().invoke(cli, argv)
        assert result.exit_code == 0, result.output
        assert Recorder.events[0] == ("start", 0) and Recorder.events[-1] == ("end", 10)
        # The run records it: a resumed run reports to it again.
        assert api.show(tmp_path / "run")["status"] == "finished"
        assert Recorder.events.count(("end", 10)) == 1


def test_an_unknown_reporter_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    with pytest.raises(UnknownComponentError, match="Unknown reporter 'recordr'"):
        api.train(
            "vanilla-mlp", "mnist", out=tmp_path / "run", data_dir=FIXTURE, iterations=2, device="cpu",
            report=["recordr"],
        )  # fmt: skip
    assert not (tmp_path / "run").exists()


def test_tensorboard_logs_the_figures_and_grids(tmp_path: Path) -> None:
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run = ganzoo.train(
        "vanilla-mlp", "mnist", out=tmp_path / "run", data_dir=FIXTURE, iterations=20, seed=0,
        device="cpu", sample_every=10, tensorboard=True, sets=["log_every=5"],
    )  # fmt: skip
    events = EventAccumulator(str(run.run_dir / "tensorboard"))
    events.Reload()
    g_loss = events.Scalars("train/g_loss")
    assert [e.step for e in g_loss] == [5, 10, 15, 20]
    logged = [r["g_loss"] for r in run.metrics()]
    assert [e.value for e in g_loss] == pytest.approx(logged, abs=2e-5)  # float32 in the events
    assert [e.step for e in events.Images("samples")] == [10, 20]


def test_tensorboard_without_the_package_is_one_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # as if not installed
    with pytest.raises(UsageError, match=r"--tensorboard needs the tensorboard package.*pip install"):
        ganzoo.train(
            "vanilla-mlp", "mnist", out=tmp_path / "run", data_dir=FIXTURE, iterations=2, tensorboard=True
        )
    assert not (tmp_path / "run").exists()


def run_eval(*args: str) -> Any:
    result = CliRunner().invoke(cli, ["eval", *args])
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    return result


def test_eval_every_appends_figures_and_the_last_goes_into_the_config(
    tmp_path: Path, train_short: Callable[..., Any]
) -> None:
    run = tmp_path / "run"
    train_short(run, iterations=40, eval_every=20, sets=["eval_n=200"], ema=0.5)
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    evals = [r for r in rows if "eval" in r]
    assert [r["step"] for r in evals] == [20, 40]
    # Each eval line carries the run's clock and what the evaluation took: training time is the one
    # less the other (scripts/eval_curves.py --x seconds), and it grows with the steps.
    logged = {r["step"]: r["time"] for r in rows if "g_loss" in r}
    assert all(r["eval_s"] > 0 and r["time"] >= logged[r["step"]] + r["eval_s"] * 0.5 for r in evals)
    assert evals[1]["time"] - evals[0]["eval_s"] - evals[1]["eval_s"] > logged[20]
    config = json.loads((run / "config.json").read_text())
    assert config["result"]["eval"] == evals[-1]["eval"]
    assert Image.open(run / "losses.png").size[0] > 1400  # a third panel: FD against iterations
    # The EMA generator is what was evaluated, and what `ganzoo eval` measures by default.
    cli_figures = json.loads(run_eval(str(run), "-n", "200", "--json").stdout)
    assert cli_figures["generator"] == "moving average (--ema)"
    assert cli_figures["metrics"] == evals[-1]["eval"]
