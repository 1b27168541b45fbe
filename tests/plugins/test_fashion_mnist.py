"""Fashion-MNIST: found in a user's folder and in Debian's system folder, refused clearly when absent."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from ganzoo.data import read_idx
from ganzoo.errors import DataError
from ganzoo.plugins.fashion_mnist import FashionMNIST

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "fashion-mnist"
# The first ten training labels of the real Fashion-MNIST: ankle boot, T-shirt, T-shirt, dress, ...
FIRST_LABELS = [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]
SYSTEM_DIRS = list(FashionMNIST.system_dirs)  # as declared, before any test patches it


@pytest.fixture(autouse=True)
def no_system_copy(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """This machine may have Debian's copy installed; the tests must not find it by accident."""
    monkeypatch.setattr(FashionMNIST, "system_dirs", [tmp_path / "no-system-copy"])


def _copy_fixture(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for f in FIXTURE.glob("*.gz"):
        shutil.copy(f, folder / f.name)
    return folder


@pytest.mark.parametrize("layout", [".", "FashionMNIST/raw"])
def test_found_in_user_folder(tmp_path: Path, layout: str) -> None:
    root = tmp_path / "data"
    _copy_fixture(root / layout)
    ds = FashionMNIST(root)
    train, test = ds.load("train"), ds.load("test")
    assert train.shape == (256, 1, 28, 28) and test.shape == (64, 1, 28, 28)
    assert train.dtype == torch.float32 and train.min() == 0.0 and train.max() == 1.0
    raw = read_idx(FIXTURE / "train-images-idx3-ubyte.gz")
    assert torch.equal((train * 255).round().to(torch.uint8).reshape(256, 28, 28), raw)
    assert ds.labels("train")[:10].tolist() == FIRST_LABELS
    assert ds.status().present and ds.status().where == str(root)


def test_found_in_system_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    system = _copy_fixture(tmp_path / "usr-share-datasets-fashion-mnist")  # laid out as Debian does
    monkeypatch.setattr(FashionMNIST, "system_dirs", [system])
    ds = FashionMNIST()
    assert ds.status().present and ds.status().where == str(system)
    assert ds.fetch() == str(system)
    assert ds.load("test").shape == (64, 1, 28, 28)
    assert ds.labels("train")[:10].tolist() == FIRST_LABELS


def test_system_folder_is_where_debian_installs_it() -> None:
    debian = Path("/usr/share/datasets/fashion-mnist")
    assert [debian] == SYSTEM_DIRS


def test_missing_names_the_debian_package(tmp_path: Path) -> None:
    ds = FashionMNIST(tmp_path / "nothing-here")
    assert not ds.status().present
    with pytest.raises(DataError) as err:
        ds.load("train")
    message = str(err.value)
    assert "\n" not in message
    for expected in [
        "The dataset 'fashion-mnist' is not available",
        "train-images-idx3-ubyte",
        f"the data folder {tmp_path / 'nothing-here'} (no such folder)",
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/ (skipped: GANZOO_OFFLINE is set)",
        "apt-get install dataset-fashion-mnist",
        "--data-dir PATH",
    ]:
        assert expected in message
