"""CIFAR-10: batches in the official pickle format are read without numpy; anything else is refused."""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import re
import tarfile
from pathlib import Path
from typing import Any

import pytest
import torch

from ganzoo.errors import DataError, UsageError
from ganzoo.plugins import cifar10 as cifar_module
from ganzoo.plugins.cifar10 import CIFAR10

np = pytest.importorskip("numpy")
NAMES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]


def _batch(n: int, seed: int) -> dict[bytes, Any]:
    """One batch as the official files hold it: N rows of 3072 uint8 values, R then G then B planes."""
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
    data[0, 0], data[0, 1] = 0, 255
    return {
        b"batch_label": b"training batch %d of 5" % seed,
        b"labels": rng.integers(0, 10, size=n).tolist(),
        b"data": data,
        b"filenames": [b"img_%d.png" % i for i in range(n)],
    }


def _write_batches(folder: Path, n: int = 4) -> dict[str, dict[bytes, Any]]:
    folder.mkdir(parents=True, exist_ok=True)
    batches = {name: _batch(n, seed) for seed, name in enumerate(NAMES, start=1)}
    for name, batch in batches.items():
        (folder / name).write_bytes(pickle.dumps(batch, protocol=2))
    return batches


def test_loads_batches_from_the_official_folder(tmp_path: Path) -> None:
    batches = _write_batches(tmp_path / "cifar-10-batches-py")
    ds = CIFAR10(tmp_path)
    train, test = ds.load("train"), ds.load("test")
    assert train.shape == (20, 3, 32, 32) and test.shape == (4, 3, 32, 32)
    assert train.dtype == torch.float32 and train.min() == 0.0 and train.max() == 1.0
    # Image 5 is the second row of data_batch_2; its pixel (row 3, column 4) of the blue plane:
    row = batches["data_batch_2"][b"data"][1]
    assert train[5, 2, 3, 4].item() == pytest.approx(row[2 * 1024 + 3 * 32 + 4] / 255)
    expected_labels = [label for n in NAMES[:5] for label in batches[n][b"labels"]]
    assert ds.labels("train").tolist() == expected_labels
    assert ds.status().present and ds.status().where == str(tmp_path / "cifar-10-batches-py")


def test_loads_flat_batches(tmp_path: Path) -> None:
    _write_batches(tmp_path)
    assert CIFAR10(tmp_path).load("test").shape == (4, 3, 32, 32)


def test_unknown_split(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no split 'valid'; choose train or test"):
        CIFAR10(tmp_path).load("valid")


class _RunsCode:
    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, ("echo pwned > /dev/null",))


def test_malicious_pickle_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write_batches(tmp_path)
    batch = _batch(4, 1)
    batch[b"labels"] = _RunsCode()
    (tmp_path / "data_batch_3").write_bytes(pickle.dumps(batch, protocol=2))
    monkeypatch.setattr(os, "system", lambda *a: pytest.fail("the pickle ran code"))
    with pytest.raises(DataError) as err:
        CIFAR10(tmp_path).load("train")
    message = str(err.value)
    assert f"ganzoo refuses to load {tmp_path / 'data_batch_3'}" in message
    assert "system" in message and "arbitrary code" in message


def test_batch_that_is_not_a_cifar_batch_names_the_file(tmp_path: Path) -> None:
    _write_batches(tmp_path)
    (tmp_path / "test_batch").write_bytes(
        pickle.dumps({b"data": np.zeros((2, 784), np.uint8), b"labels": [0, 1]})
    )
    with pytest.raises(DataError, match=re.escape(f"{tmp_path / 'test_batch'} holds data of (2, 784)")):
        CIFAR10(tmp_path).load("test")


def test_missing_says_which_files_and_where(tmp_path: Path) -> None:
    _write_batches(tmp_path)
    (tmp_path / "data_batch_4").unlink()
    ds = CIFAR10(tmp_path)
    assert not ds.status().present
    with pytest.raises(DataError) as err:
        ds.load("train")
    message = str(err.value)
    assert "\n" not in message
    for expected in [
        "The dataset 'cifar10' is not available",
        "data_batch_1 to data_batch_5 and test_batch",
        f"the data folder {tmp_path} (flat or in cifar-10-batches-py/; missing data_batch_4)",
        f"the cache {ds.cache_path()} (empty)",
        "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz (skipped: GANZOO_OFFLINE is set)",
        "--data-dir PATH",
    ]:
        assert expected in message


def _tarball(path: Path, source: Path, extra: dict[str, bytes] | None = None) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name in NAMES:
            tar.add(source / name, arcname=f"cifar-10-batches-py/{name}")
        for name, data in (extra or {}).items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def _patch_hashes(monkeypatch: pytest.MonkeyPatch, source: Path, tarball: Path) -> None:
    for name in NAMES:
        monkeypatch.setitem(CIFAR10.md5, name, hashlib.md5((source / name).read_bytes()).hexdigest())
    monkeypatch.setattr(cifar_module, "TARBALL_MD5", hashlib.md5(tarball.read_bytes()).hexdigest())


def test_downloaded_tarball_fills_the_cache_with_the_batches_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "src"
    _write_batches(source)
    server = tmp_path / "server"
    server.mkdir()
    tarball = _tarball(server / "cifar-10-python.tar.gz", source, {"../escaped": b"x", "/tmp/abs": b"y"})
    _patch_hashes(monkeypatch, source, tarball)
    monkeypatch.setattr(cifar_module, "URL", tarball.as_uri())
    monkeypatch.delenv("GANZOO_OFFLINE")
    ds = CIFAR10()
    assert ds.fetch() == str(ds.cache_path())
    assert sorted(p.name for p in ds.cache_path().iterdir()) == sorted(NAMES)
    assert not (ds.cache_path().parent / "escaped").exists()
    assert CIFAR10().load("train").shape == (20, 3, 32, 32)


def test_tarball_with_wrong_md5_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "src"
    _write_batches(source)
    tarball = _tarball(tmp_path / "cifar-10-python.tar.gz", source)  # offline: found in the data folder
    with pytest.raises(DataError, match=r"cifar-10-python\.tar\.gz fails its md5 check"):
        CIFAR10(tmp_path).load("train")
    _patch_hashes(monkeypatch, source, tarball)
    assert CIFAR10(tmp_path).load("test").shape == (4, 3, 32, 32)
