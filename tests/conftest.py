"""Shared fixtures: every test runs offline, with its own cache and a fresh plugin manager."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ganzoo import manager as manager_module

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True)
def isolated(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No network mirrors, an empty cache, no user plugin settings, a manager built afresh."""
    monkeypatch.setenv("GANZOO_OFFLINE", "1")
    monkeypatch.setenv("GANZOO_CACHE", str(tmp_path_factory.mktemp("cache")))
    for var in (
        "GANZOO_DATA",
        "GANZOO_PLUGINS",
        "GANZOO_DISABLE_PLUGINS",
        "GANZOO_STRICT_PLUGINS",
        "GANZOO_ZOO",
    ):
        monkeypatch.delenv(var, raising=False)
    manager_module._MANAGER = None
    yield
    manager_module._MANAGER = None


@pytest.fixture
def mnist_dir() -> Path:
    """256 real training digits and 64 test digits of MNIST as the four official .gz IDX files."""
    return FIXTURES / "mnist"
