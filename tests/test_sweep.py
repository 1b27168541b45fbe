"""`ganzoo sweep`: specs refused before any trial, a grid and a search end to end on the fixture MNIST,
a sweep killed and continued, two workers on one SQLite file and on a real PostgreSQL server."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from ganzoo.cli import cli

optuna = pytest.importorskip("optuna", reason="the test extra installs optuna (pip install 'ganzoo[sweep]')")

FIXTURE = Path(__file__).parent / "fixtures" / "mnist"

BASE = f"""
arch = "vanilla-mlp"
dataset = "mnist"
data_dir = "{FIXTURE}"

[rank]
figure = "fd"

[eval]
n = 64

[base]
iterations = {{iterations}}
batch_size = 16
sample_every = 1000
checkpoint_every = 10
log_every = 10
eval_n = 64
"""


def spec(tmp_path: Path, body: str, iterations: int = 30, name: str = "s") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(BASE.format(iterations=iterations) + body)
    return path


def sweep(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ganzoo", "sweep", *args], cwd=cwd, capture_output=True, text=True, timeout=600
    )


def trials(folder: Path) -> list[Any]:
    from ganzoo import sweep as sweeps

    return sweeps.load(str(folder)).get_trials(deepcopy=False)


def completed_keys(study_trials: list[Any]) -> Counter[str]:
    from optuna.trial import TrialState

    return Counter(t.user_attrs["key"] for t in study_trials if t.state == TrialState.COMPLETE)


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("[grid]\nlr_gg = [0.001]\n", "no training setting or component hyperparameter has that name"),
        ("[grid]\n", "[grid] is empty"),
        ("[grid]\nlr_g = []\n", "must be a non-empty list of values"),
        ('[rank]\nfigure = "mmd"\n[grid]\nlr_g = [0.001]\n', "does not measure 'mmd'"),
        (
            "[search]\ntrials = 2\n[search.space]\nlr_g = {low = 0.1, high = 0.01}\n",
            "needs numbers low < high",
        ),
        ("[grid]\nlr_g = [0.001]\n[search]\ntrials = 1\n", "exactly one of [grid]"),
        (
            "[search]\ntrials = 2\n[search.space]\nbatch_size = {low = 0, high = 8}\n",
            "search.space.batch_size",
        ),
        ("seeds = [0, 0]\n[grid]\nlr_g = [0.001]\n", "lists a seed twice"),
        ('[prune]\npruner = "median"\n[grid]\nlr_g = [0.001]\n', "give [prune] eval_every"),
        # TOML nests at an unquoted dot: a dotted setting or label must be quoted
        ("[grid]\nloss.r1 = [0.5, 1]\n", "TOML reads grid.loss.r1 as tables inside tables"),
        ("[variants.decay-0.25]\nlr_g = 0.001\n", "TOML reads variants.decay-0.25.lr_g as tables"),
        ("[base.loss]\nr1 = 0.5\n[grid]\nlr_g = [0.001]\n", "quote a name that has a dot"),
    ],
)
def test_a_bad_spec_is_one_sentence_before_any_trial(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str, fragment: str
) -> None:
    monkeypatch.chdir(tmp_path)
    text = BASE.format(iterations=10)
    if body.startswith("[rank]"):  # replaces the base's [rank]
        text = text.replace('[rank]\nfigure = "fd"\n', "")
    if body.startswith("seeds"):
        text = body.split("\n", 1)[0] + "\n" + text
        body = body.split("\n", 1)[1]
    (tmp_path / "bad.toml").write_text(text + body)
    result = CliRunner().invoke(cli, ["sweep", "bad.toml"])
    assert result.exit_code != 0 and "Traceback" not in result.stderr
    assert fragment in " ".join(result.stderr.split()), result.stderr
    assert not (tmp_path / "sweeps").exists()  # nothing started, nothing written


def test_a_storage_that_cannot_be_reached_is_one_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("psycopg", reason="the test extra installs psycopg[binary]")
    monkeypatch.chdir(tmp_path)
    spec(tmp_path, "[grid]\nlr_g = [0.001]\n")
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"postgresql://ganzoo:secret@127.0.0.1:{port}/none"
    result = CliRunner().invoke(cli, ["sweep", "s.toml", "--storage", url])
    assert result.exit_code != 0 and "Traceback" not in result.stderr
    err = " ".join(result.stderr.split())
    assert "cannot open the sweep storage postgresql://ganzoo:***@127.0.0.1" in err and "secret" not in err
    assert not (tmp_path / "sweeps").exists()


@pytest.mark.slow
def test_a_grid_over_seeds_end_to_end(tmp_path: Path) -> None:
    path = spec(tmp_path, "[grid]\nlr_g = [0.001, 0.01]\n")
    path.write_text("seeds = [0, 1]\n" + path.read_text())  # a top-level key: before the tables
    done = sweep(str(path), "--threads", "1", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    table = json.loads(done.stdout)
    folder = tmp_path / "sweeps" / "s"
    rows = {r["label"]: r for r in table["rows"]}
    assert set(rows) == {"lr_g=0.001", "lr_g=0.01"} and all(r["n"] == 2 for r in rows.values())
    assert sum(r["best"] for r in rows.values()) == 1
    best = min(rows.values(), key=lambda r: r["mean"])
    assert best["best"] and table["figure"] == "fd" and table["direction"] == "minimize"
    # each trial an ordinary, finished run directory: its record says what it trained
    for label, seed in [("lr_g=0.001", 0), ("lr_g=0.01", 1)]:
        record = json.loads((folder / "trials" / f"{label}-seed{seed}" / "config.json").read_text())
        assert record["seed"] == seed and record["run"]["train"]["lr_g"] == float(label.split("=")[1])
        assert record["result"]["steps"] == 30
    lines = [json.loads(x) for x in (folder / "results.jsonl").read_text().splitlines()]
    assert len(lines) == 4 and {x["state"] for x in lines} == {"complete"}
    assert (folder / "report.html").is_file()
    assert completed_keys(trials(folder)) == Counter({f"{lab}|seed{s}": 1 for lab in rows for s in (0, 1)})
    again = sweep("show", str(folder), "--json", cwd=tmp_path)  # the same table, any time later
    assert json.loads(again.stdout)["rows"] == table["rows"]
    rerun = sweep(str(path), "--threads", "1", "--json", cwd=tmp_path)  # nothing left to run
    assert rerun.returncode == 0 and len((folder / "results.jsonl").read_text().splitlines()) == 4


@pytest.mark.slow
def test_a_search_asks_optuna_for_each_trial(tmp_path: Path) -> None:
    body = '[search]\ntrials = 3\nsampler = "random"\n[search.space]\n'
    body += "lr_g = {low = 1e-4, high = 1e-2, log = true}\n"
    body += 'd_update = {choices = ["split", "joint"]}\n'
    done = sweep(str(spec(tmp_path, body, iterations=20)), "--threads", "1", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)["rows"]
    assert len(rows) == 3 and all(r["n"] == 1 for r in rows)
    for r in rows:
        assert 1e-4 <= r["changes"]["lr_g"] <= 1e-2 and r["changes"]["d_update"] in ("split", "joint")
        record = json.loads((Path(r["runs"][0]) / "config.json").read_text())
        assert record["run"]["train"]["lr_g"] == r["changes"]["lr_g"]


def _wait_for(condition: Any, timeout: float = 300) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.2)


def _checkpointed(run: Path) -> int:
    """The step of the run's checkpoint, 0 while there is none or it is being replaced."""
    from ganzoo.errors import RunDirError
    from ganzoo.planning import checkpoint_step

    try:
        return checkpoint_step(run / "checkpoint" / "state.safetensors")
    except (OSError, RunDirError):
        return 0


@pytest.mark.slow
def test_a_killed_sweep_continues_where_it_stopped(tmp_path: Path) -> None:
    """Killed (its whole process group, as a closed terminal or a lost session kills it) while a
    trial trains: started again, the trial in flight resumes from its checkpoint, every trial ends
    once, none twice."""
    path = spec(tmp_path, "[grid]\nlr_g = [0.001, 0.002, 0.003]\n", iterations=400)
    folder = tmp_path / "sweeps" / "s"
    cmd = [sys.executable, "-m", "ganzoo", "sweep", str(path), "--threads", "1"]
    first = subprocess.Popen(
        cmd, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        results = folder / "results.jsonl"
        _wait_for(lambda: results.is_file() and len(results.read_text().splitlines()) >= 1)
        second = folder / "trials" / "lr_g=0.002-seed0"
        # the checkpoint itself, not the metrics log: a step is logged before its checkpoint is written
        _wait_for(lambda: _checkpointed(second) >= 100)
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    time.sleep(1)
    done = sweep(str(path), "--threads", "1", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    study_trials = trials(folder)
    assert completed_keys(study_trials) == Counter({f"lr_g=0.00{i}|seed0": 1 for i in (1, 2, 3)})
    retried = [t for t in study_trials if "retry_of" in t.user_attrs]
    assert [t.user_attrs["key"] for t in retried] == ["lr_g=0.002|seed0"]
    assert retried[0].user_attrs["resumed_from"] >= 100, "the trial started over"
    assert json.loads((second / "config.json").read_text())["result"]["steps"] == 400


def _two_workers(tmp_path: Path, path: Path, extra: list[str]) -> list[Any]:
    cmd = [sys.executable, "-m", "ganzoo", "sweep", str(path), "--threads", "1", *extra]
    procs = [
        subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1][-2000:] for o in outs]
    from ganzoo import sweep as sweeps

    target = extra[extra.index("--storage") + 1] if "--storage" in extra else str(tmp_path / "sweeps" / "s")
    return sweeps.load(target, "s").get_trials(deepcopy=False)


@pytest.mark.slow
def test_two_workers_share_one_sqlite_sweep(tmp_path: Path) -> None:
    path = spec(tmp_path, "[grid]\nlr_g = [0.001, 0.002, 0.003, 0.004]\n", iterations=60)
    study_trials = _two_workers(tmp_path, path, [])
    assert completed_keys(study_trials) == Counter({f"lr_g=0.00{i}|seed0": 1 for i in range(1, 5)})
    assert len({t.user_attrs["pid"] for t in study_trials}) == 2  # both worked


@pytest.fixture
def postgres() -> Iterator[str]:
    """A PostgreSQL server of Debian's package in a temporary folder, on 127.0.0.1; its URL."""
    pytest.importorskip("psycopg", reason="the test extra installs psycopg[binary]")
    found = shutil.which("initdb") or next(
        iter(sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))), None
    )
    if found is None:
        pytest.skip("PostgreSQL is not installed here (.ci/run installs Debian's postgresql)")
    bindir = Path(found).resolve().parent
    data = Path(tempfile.mkdtemp(prefix="ganzoo-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root
        shutil.chown(data, "postgres")
        prefix = ["runuser", "-u", "postgres", "--"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    def run(*args: str) -> None:
        subprocess.run([*prefix, *args], check=True, capture_output=True, timeout=120)

    try:
        run(str(bindir / "initdb"), "-D", str(data / "db"), "-U", "ganzoo", "--auth=trust")
        opts = f"-p {port} -h 127.0.0.1 -k {data}"
        run(
            str(bindir / "pg_ctl"), "-D", str(data / "db"), "-o", opts, "-l", str(data / "log"), "-w", "start"
        )
        run(str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "ganzoo", "sweeps")
        yield f"postgresql://ganzoo@127.0.0.1:{port}/sweeps"
    finally:
        subprocess.run(
            [*prefix, str(bindir / "pg_ctl"), "-D", str(data / "db"), "-m", "immediate", "stop"],
            capture_output=True,
        )
        shutil.rmtree(data, ignore_errors=True)


@pytest.mark.slow
def test_two_workers_share_one_postgresql_sweep(tmp_path: Path, postgres: str) -> None:
    path = spec(tmp_path, "[grid]\nlr_g = [0.001, 0.002, 0.003, 0.004]\n", iterations=60)
    study_trials = _two_workers(tmp_path, path, ["--storage", postgres])
    assert completed_keys(study_trials) == Counter({f"lr_g=0.00{i}|seed0": 1 for i in range(1, 5)})
    assert len({t.user_attrs["pid"] for t in study_trials}) == 2
    shown = sweep("show", postgres, "--json", cwd=tmp_path)
    assert shown.returncode == 0 and len(json.loads(shown.stdout)["rows"]) == 4


@pytest.mark.slow
def test_a_trial_the_pruner_stops_is_stopped_and_shown_pruned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pruner sees each --eval-every figure as it lands; when it says stop, the trial's run gets
    SIGTERM (a checkpoint, not the whole schedule) and the trial is PRUNED in the study and the table.
    Which trial a median pruner stops depends on the figures; here it is told to stop every one."""
    from optuna.trial import Trial, TrialState

    from ganzoo import sweep as sweeps

    seen: list[tuple[float, int]] = []
    monkeypatch.setattr(Trial, "report", lambda self, value, step: seen.append((value, step)))
    monkeypatch.setattr(Trial, "should_prune", lambda self: True)
    body = '[prune]\npruner = "median"\neval_every = 10\n[grid]\nlr_g = [0.001]\n'
    parsed = sweeps.read_spec(spec(tmp_path, body, iterations=400))
    runner = sweeps.Sweep(parsed, tmp_path / "sweep", threads=1)
    runner.run()
    (trial,) = runner.study.get_trials(deepcopy=False)
    assert trial.state == TrialState.PRUNED and seen and seen[0][1] == 10
    record = json.loads((tmp_path / "sweep" / "trials" / "lr_g=0.001-seed0" / "config.json").read_text())
    assert record.get("result") is None or record["result"]["steps"] < 400  # stopped early
    assert (tmp_path / "sweep" / "trials" / "lr_g=0.001-seed0" / "checkpoint").is_dir()
    (row,) = sweeps.result(runner.study)["rows"]
    assert row["pruned"] == 1 and row["n"] == 0 and row["mean"] is None


@pytest.mark.parametrize(
    "message",
    [
        "(sqlite3.OperationalError) table studies already exists",
        "(sqlite3.IntegrityError) UNIQUE constraint failed: alembic_version.version_num",
        'duplicate key value violates unique constraint "alembic_version_pkc"',
    ],
)
def test_a_worker_that_loses_the_race_to_create_the_storage_tries_again(
    monkeypatch: pytest.MonkeyPatch, message: str
) -> None:
    """Two workers started at once both create the sweep's tables; the one that loses sees one of
    these errors, waits for the other and opens the storage the other made (seen in a slow test run:
    two `ganzoo sweep` processes on one new SQLite file, one exiting 2 on the schema version row)."""
    pytest.importorskip("optuna")
    import optuna

    from ganzoo import sweep as sweeps
    from ganzoo.errors import UsageError

    calls: list[str] = []

    def storage(url: str, engine_kwargs: dict) -> str:
        calls.append(url)
        if len(calls) == 1:
            raise RuntimeError(message)
        return "the storage"

    monkeypatch.setattr(optuna.storages, "RDBStorage", storage)
    monkeypatch.setattr(sweeps.time, "sleep", lambda s: None)
    assert sweeps.open_storage("sqlite:///x.db") == "the storage" and len(calls) == 2
    calls.clear()

    def refused(url: str, engine_kwargs: dict) -> str:
        raise RuntimeError("unable to open database file")

    monkeypatch.setattr(optuna.storages, "RDBStorage", refused)
    with pytest.raises(UsageError, match=r"cannot open the sweep storage sqlite:///x\.db: unable to open"):
        sweeps.open_storage("sqlite:///x.db")
