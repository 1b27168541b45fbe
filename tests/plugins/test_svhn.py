"""SVHN: real-format .mat files written by scipy are read, split, and refused clearly when wrong or absent."""

from __future__ import annotations

import builtins
import re
from pathlib import Path
from typing import Any

import pytest
import torch

from ganzoo.errors import DataError, UsageError
from ganzoo.plugins.svhn import SVHN

np = pytest.importorskip("numpy")
sio = pytest.importorskip("scipy.io")


def _write_mat(path: Path, n: int, seed: int, **overrides: Any) -> tuple[Any, Any]:
    """A .mat laid out as the official one: X (32, 32, 3, N) uint8 and y (N, 1) with 10 for the digit 0."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, size=(32, 32, 3, n), dtype=np.uint8)
    x[0, 0, 0, 0], x[0, 0, 0, 1] = 0, 255
    y = rng.integers(1, 11, size=(n, 1)).astype(np.uint8)
    contents = {"X": x, "y": y, **overrides}
    path.parent.mkdir(parents=True, exist_ok=True)
    sio.savemat(path, {k: v for k, v in contents.items() if v is not None})
    return x, y


@pytest.fixture
def svhn_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    _write_mat(folder / "train_32x32.mat", 12, seed=0)
    _write_mat(folder / "test_32x32.mat", 10, seed=1)
    return folder


def test_loads_train_with_the_right_shape_range_and_pixels(tmp_path: Path) -> None:
    x, y = _write_mat(tmp_path / "SVHN" / "train_32x32.mat", 12, seed=0)  # torchvision-like subfolder
    _write_mat(tmp_path / "SVHN" / "test_32x32.mat", 10, seed=1)
    ds = SVHN(tmp_path)
    train = ds.load("train")
    assert train.shape == (12, 3, 32, 32) and train.dtype == torch.float32 and train.is_contiguous()
    assert train.min() == 0.0 and train.max() == 1.0
    # Pixel (row 5, column 7, green) of image 3 is where the .mat has it.
    assert train[3, 1, 5, 7].item() == pytest.approx(x[5, 7, 1, 3] / 255)
    assert torch.equal((train * 255).round().to(torch.uint8), torch.from_numpy(x).permute(3, 2, 0, 1))
    assert ds.labels("train").tolist() == [int(v) % 10 for v in y[:, 0]]
    assert ds.status().present and ds.status().where == str(tmp_path / "SVHN")


def test_valid_and_test_are_the_halves_of_the_test_file(svhn_dir: Path) -> None:
    ds = SVHN(svhn_dir)
    valid, test = ds.load("valid"), ds.load("test")
    assert valid.shape == (5, 3, 32, 32) and test.shape == (5, 3, 32, 32)
    whole = torch.from_numpy(sio.loadmat(svhn_dir / "test_32x32.mat")["X"]).permute(3, 2, 0, 1) / 255
    assert torch.allclose(torch.cat([valid, test]), whole)
    assert not torch.equal(valid, test)


def test_unknown_split(svhn_dir: Path) -> None:
    with pytest.raises(UsageError, match="no split 'extra'; choose train, valid, test"):
        SVHN(svhn_dir).load("extra")


def test_mat_without_x_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "train_32x32.mat"
    _write_mat(path, 4, seed=0, X=None)
    with pytest.raises(DataError) as err:
        SVHN(tmp_path).load("train")
    assert f"{path} does not hold SVHN data: it has no variable 'X' (it holds y)" in str(err.value)


def test_mat_with_wrong_image_shape_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "train_32x32.mat"
    _write_mat(path, 4, seed=0, X=np.zeros((28, 28, 4), dtype=np.uint8))
    with pytest.raises(DataError, match=re.escape(f"{path} holds X of shape 28x28x4 and type uint8")):
        SVHN(tmp_path).load("train")


def test_file_that_is_not_a_mat(tmp_path: Path) -> None:
    (tmp_path / "train_32x32.mat").write_bytes(b"<html>404 Not Found</html>")
    with pytest.raises(DataError, match=r"train_32x32\.mat is not a readable MATLAB \.mat file"):
        SVHN(tmp_path).load("train")


def test_missing_files_say_which_and_where(tmp_path: Path) -> None:
    ds = SVHN(tmp_path / "empty")
    assert not ds.status().present
    with pytest.raises(DataError) as err:
        ds.load("test")
    message = str(err.value)
    assert "\n" not in message
    cache = ds.cache_path()
    for expected in [
        "The dataset 'svhn' is not available: ganzoo looked for test_32x32.mat in",
        f"the data folder {tmp_path / 'empty'} (flat or in SVHN/)",
        f"the cache {cache}",
        "http://ufldl.stanford.edu/housenumbers/test_32x32.mat (skipped: GANZOO_OFFLINE is set)",
        "download train_32x32.mat and test_32x32.mat from http://ufldl.stanford.edu/housenumbers/",
        "--data-dir PATH",
    ]:
        assert expected in message


def test_missing_scipy_says_how_to_install_it(svhn_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_scipy(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "scipy" or name.startswith("scipy."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_scipy)
    with pytest.raises(DataError, match=re.escape("pip install 'ganzoo[svhn]'")):
        SVHN(svhn_dir).load("train")


def test_cache_file_must_match_its_md5(svhn_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ds = SVHN()
    cache = ds.cache_path()
    cache.mkdir(parents=True)
    (cache / "test_32x32.mat").write_bytes((svhn_dir / "test_32x32.mat").read_bytes())
    with pytest.raises(DataError, match=r"test_32x32\.mat fails its md5 check"):
        ds.load("test")
    from ganzoo.plugins import svhn as svhn_module

    monkeypatch.setitem(
        svhn_module.SVHN.md5, "test_32x32.mat", svhn_module.md5_file(cache / "test_32x32.mat")
    )
    assert SVHN().load("test").shape == (5, 3, 32, 32)


def test_downloaded_into_the_cache_when_online(
    svhn_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ganzoo.plugins import svhn as svhn_module

    monkeypatch.delenv("GANZOO_OFFLINE")
    monkeypatch.setattr(svhn_module, "URL", svhn_dir.as_uri() + "/")  # serves the files as the server does
    for name in SVHN.md5:
        monkeypatch.setitem(SVHN.md5, name, svhn_module.md5_file(svhn_dir / name))
    ds = SVHN()
    assert not ds.status().present
    assert ds.fetch() == str(ds.cache_path())
    assert sorted(p.name for p in ds.cache_path().iterdir()) == ["test_32x32.mat", "train_32x32.mat"]
    assert SVHN().load("train").shape == (12, 3, 32, 32)
