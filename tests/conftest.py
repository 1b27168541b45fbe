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
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("config")))  # no user config file
    for var in (
        "GANZOO_DATA",
        "GANZOO_HOME",
        "GANZOO_DEVICE",
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


@pytest.fixture(scope="session")
def picture_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run trained two steps on image data ganzoo ships no classifier for (an image folder)."""
    from PIL import Image

    from ganzoo import api

    root = tmp_path_factory.mktemp("pictures")
    (root / "pictures").mkdir()
    for i in range(6):
        Image.new("RGB", (16, 16), (40 * i, 30, 200 - 30 * i)).save(root / "pictures" / f"{i}.png")
    run = root / "run"
    api.train(
        "vanilla-mlp",
        "image-folder",
        out=run,
        data_dir=root / "pictures",
        iterations=2,
        seed=0,
        device="cpu",
        sets=["dataset.image_size=16", "batch_size=4"],
    )
    return run
