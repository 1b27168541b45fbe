"""One writer per run directory: a second is refused naming the first; a killed one leaves no lock."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ganzoo.errors import RunDirError
from ganzoo.runlock import OWNER, RunLock

HOLD = """
import sys, time
from ganzoo.runlock import RunLock
lock = RunLock(sys.argv[1]).acquire()
print("held", flush=True)
time.sleep(60)
"""


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the lock of ``tmp_path``."""
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    yield proc
    proc.kill()
    proc.wait()


def test_a_second_writer_is_refused_naming_the_process_that_holds_the_run(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    with pytest.raises(RunDirError) as err:
        RunLock(tmp_path).acquire()
    message = str(err.value)
    assert f"{tmp_path} is being written by another ganzoo process (pid {holder.pid}" in message
    assert "wait for it to finish" in message


def test_a_lock_left_by_a_killed_process_is_taken_over(tmp_path: Path, holder: subprocess.Popen[str]) -> None:
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    assert json.loads((tmp_path / OWNER).read_text())["pid"] == holder.pid  # its note is left behind
    with RunLock(tmp_path):
        assert json.loads((tmp_path / OWNER).read_text())["pid"] == os.getpid()
    assert not (tmp_path / OWNER).exists()


def test_checking_that_a_run_is_free_leaves_no_note_and_no_lock_held(tmp_path: Path) -> None:
    RunLock(tmp_path).check_free()
    assert not (tmp_path / OWNER).exists()
    with RunLock(tmp_path):  # still free
        pass


def test_the_lock_is_released_when_the_writer_fails(tmp_path: Path) -> None:
    with pytest.raises(ValueError), RunLock(tmp_path):
        raise ValueError("a failed run")
    start = time.perf_counter()
    RunLock(tmp_path).acquire().release()
    assert time.perf_counter() - start < 5


def test_eval_and_generate_write_into_a_run_only_under_its_lock(
    run: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`ganzoo eval` keeps eval.json and `generate` writes RUN/samples only while holding the run's
    lock: with another process training the run (its lock held), eval keeps nothing and generate
    writes to the current folder instead; with the run free, both write into it and leave no lock."""
    import shutil

    from ganzoo import api

    copy = tmp_path / "run"
    shutil.copytree(run.run_dir, copy)
    (copy / "eval.json").unlink(missing_ok=True)  # the shared run: an earlier test may have measured it
    monkeypatch.chdir(tmp_path)
    held = RunLock(copy).acquire()  # as a training process would hold it
    try:
        api.evaluate(copy, n=32, batch_size=16)
        assert not (copy / "eval.json").exists()
        out = api.generate(copy, n=4, seed=1).path
        assert out == tmp_path / "generated-seed1.png" and out.is_file()
    finally:
        held.release()
    api.evaluate(copy, n=32, batch_size=16)
    assert (copy / "eval.json").is_file()
    out = api.generate(copy, n=4, seed=1).path
    assert out == copy / "samples" / "generated-seed1.png" and out.is_file()
    assert not (copy / ".lock").exists() and not (copy / ".lock.owner").exists()
