"""ganzoo.threads: OpenMP's wait policy, chosen from the machine's load before torch is imported."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ganzoo import threads


@pytest.fixture
def before_torch(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """As if torch were not imported yet, with no wait policy of the user's."""
    monkeypatch.delitem(sys.modules, "torch", raising=False)
    for name in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_a_busy_machine_gets_threads_that_sleep(before_torch: pytest.MonkeyPatch) -> None:
    before_torch.setattr(threads, "_runnable_others", lambda: 2)
    assert "PASSIVE" in threads.choose(cores=2)
    assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE"


def test_a_quiet_machine_keeps_libgomps_spinning(before_torch: pytest.MonkeyPatch) -> None:
    before_torch.setattr(threads, "_runnable_others", lambda: 0)
    assert "quiet" in threads.choose(cores=2)
    assert "OMP_WAIT_POLICY" not in os.environ and "GOMP_SPINCOUNT" not in os.environ


def test_the_users_own_setting_wins(before_torch: pytest.MonkeyPatch) -> None:
    before_torch.setattr(threads, "_runnable_others", lambda: 2)
    before_torch.setenv("GOMP_SPINCOUNT", "5000")
    assert threads.choose(cores=2) == "yours: GOMP_SPINCOUNT=5000"
    assert "OMP_WAIT_POLICY" not in os.environ


def test_ganzoo_omp_off_leaves_the_defaults(before_torch: pytest.MonkeyPatch) -> None:
    before_torch.setattr(threads, "_runnable_others", lambda: 2)
    before_torch.setenv("GANZOO_OMP", "off")
    assert "GANZOO_OMP=off" in threads.choose(cores=2)
    assert "OMP_WAIT_POLICY" not in os.environ


def test_too_late_once_torch_is_imported(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch  # noqa: F401

    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    monkeypatch.setattr(threads, "_runnable_others", lambda: 2)
    threads.choose(cores=2)
    assert "OMP_WAIT_POLICY" not in os.environ


def test_importing_ganzoo_beside_a_busy_process_chooses_passive() -> None:
    """The real thing: a process spinning on one of the cores, then a fresh ``import ganzoo``."""
    env = {
        k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "GANZOO_OMP")
    }
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        done = subprocess.run(
            [sys.executable, "-c", "import os, ganzoo; print(os.environ.get('OMP_WAIT_POLICY'))"],
            env=env, capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
    finally:
        busy.kill()
        busy.wait()
    assert done.stdout.strip() == "PASSIVE"
