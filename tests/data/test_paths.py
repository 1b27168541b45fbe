"""Where data is looked for and kept: the cache folder and the user's data folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from ganzoo.data import (
    cache_dir,
    cache_root,
    user_data_dir,
)


def test_cache_root_honours_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GANZOO_CACHE", str(tmp_path / "mine"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_root() == tmp_path / "mine"
    assert cache_dir("mnist") == tmp_path / "mine" / "mnist"
    monkeypatch.delenv("GANZOO_CACHE")
    assert cache_root() == tmp_path / "xdg" / "ganzoo"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/is/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_root() == tmp_path / "home" / ".cache" / "ganzoo"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_root() == tmp_path / "home" / ".cache" / "ganzoo"


def test_user_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("GANZOO_DATA", raising=False)
    assert user_data_dir(None) is None
    monkeypatch.setenv("GANZOO_DATA", str(tmp_path / "env"))
    assert user_data_dir(None) == tmp_path / "env"
    assert user_data_dir(tmp_path / "flag") == tmp_path / "flag"
