"""Shared fixtures: every test runs offline, with its own cache and a fresh plugin manager."""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ganzoo import env
from ganzoo import manager as manager_module

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True)
def isolated(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No network mirrors, an empty cache, no user plugin settings, a manager built afresh."""
    for variable in env.ALL:  # none of the user's own settings leak into a test
        monkeypatch.delenv(variable.name, raising=False)
    monkeypatch.setenv(env.OFFLINE.name, "1")
    monkeypatch.setenv(env.CACHE.name, str(tmp_path_factory.mktemp("cache")))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("config")))  # no user settings file
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


def _make_dist(root: Path, dist: str, module: str, body: str, ep_name: str | None = None) -> None:
    info = root / f"{dist.replace('-', '_')}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[ganzoo]\n{ep_name or dist} = {module}\n")
    (root / f"{module}.py").write_text(textwrap.dedent(body))


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder on sys.path for throwaway plugin distributions (``make_dist``); forgotten afterwards."""
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    importlib.invalidate_caches()
    for name in [m for m in sys.modules if m.startswith("zz_")]:
        del sys.modules[name]


@pytest.fixture
def make_dist() -> Callable[..., None]:
    """``make_dist(site, dist, module, body, ep_name=None)``: an installed distribution whose
    ``ganzoo`` entry point is ``module``, a module holding ``body``."""
    return _make_dist


#: The short run most tests train: vanilla-mlp on the real-digit fixture, logged every 10 steps.
SHORT = {"iterations": 60, "seed": 7, "sample_every": 30, "checkpoint_every": 30, "device": "cpu"}


@pytest.fixture
def train_short(mnist_dir: Path) -> Callable[..., Any]:
    """``train_short(out, **options)``: a short vanilla-mlp run on the real digits (see SHORT);
    options and ``sets`` override it, ``data_dir`` another folder."""

    def train(out: Path, **options: Any) -> Any:
        from ganzoo import api

        sets = options.pop("sets", [])
        data_dir = options.pop("data_dir", mnist_dir)
        return api.train(
            "vanilla-mlp",
            "mnist",
            out=out,
            data_dir=data_dir,
            sets=["log_every=10", *sets],
            **{**SHORT, **options},
        )

    return train


@pytest.fixture(scope="session")
def run(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A finished 20-iteration vanilla-mlp run on the real-digit fixture, grids every 10 steps."""
    from ganzoo import api

    out = tmp_path_factory.mktemp("api") / "run"
    return api.train(
        "vanilla-mlp", "mnist", out=out, data_dir=FIXTURES / "mnist", iterations=20, seed=0, device="cpu",
        sample_every=10,
    )  # fmt: skip
