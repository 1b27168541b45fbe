"""Reading IDX files and numpy pickles safely, finding data folders, and where the cache lives."""

from __future__ import annotations

import gzip
import io
import os
import pickle
import re
import struct
import sys
from pathlib import Path

import pytest
import torch

from ganzoo.data import (
    cache_dir,
    cache_root,
    download,
    find_idx_files,
    read_idx,
    restricted_unpickle,
    user_data_dir,
    write_idx,
)
from ganzoo.errors import DataError

NAMES = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
]


def _images(n: int = 5) -> torch.Tensor:
    return torch.randint(0, 256, (n, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))


# --- IDX -----------------------------------------------------------------------------------------


def test_idx_round_trip_raw(tmp_path: Path) -> None:
    images = _images()
    write_idx(tmp_path / "images", images)
    data = (tmp_path / "images").read_bytes()
    assert data[:4] == b"\x00\x00\x08\x03" and struct.unpack(">3I", data[4:16]) == (5, 28, 28)
    back = read_idx(tmp_path / "images")
    assert back.dtype == torch.uint8 and torch.equal(back, images)


@pytest.mark.parametrize("name", ["images.gz", "images-without-suffix"])
def test_idx_round_trip_gzip_found_by_magic_bytes(tmp_path: Path, name: str) -> None:
    images = _images()
    write_idx(tmp_path / "raw", images)
    (tmp_path / name).write_bytes(gzip.compress((tmp_path / "raw").read_bytes()))
    assert torch.equal(read_idx(tmp_path / name), images)


@pytest.mark.parametrize("dtype", [torch.int8, torch.int16, torch.int32, torch.float32, torch.float64])
def test_idx_round_trip_big_endian_types(tmp_path: Path, dtype: torch.dtype) -> None:
    values = torch.tensor([[1, -2, 300], [4, 5, -6000]]).to(dtype)
    write_idx(tmp_path / "x", values)
    back = read_idx(tmp_path / "x")
    assert back.dtype == dtype and torch.equal(back, values)
    if dtype == torch.int32:  # IDX stores big-endian, whatever the machine
        assert (tmp_path / "x").read_bytes()[12:16] == struct.pack(">i", 1)


def test_truncated_idx_names_file_and_sizes(tmp_path: Path) -> None:
    path = tmp_path / "train-images-idx3-ubyte"
    write_idx(path, _images(2))
    path.write_bytes(path.read_bytes()[:1016])
    with pytest.raises(DataError) as err:
        read_idx(path)
    assert str(path) in str(err.value)
    assert "truncated: expected 1568 bytes of data, found 1000" in str(err.value)


def test_trailing_bytes_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "labels"
    write_idx(path, torch.arange(10, dtype=torch.uint8))
    path.write_bytes(path.read_bytes() + b"xx")
    with pytest.raises(DataError, match="expected 10 bytes of data after its header, found 12"):
        read_idx(path)


def test_wrong_magic_names_file(tmp_path: Path) -> None:
    path = tmp_path / "not-idx"
    path.write_bytes(b"PK\x03\x04" + bytes(100))
    with pytest.raises(DataError) as err:
        read_idx(path)
    assert str(path) in str(err.value) and "magic number" in str(err.value)


def test_unknown_type_code_and_broken_gzip(tmp_path: Path) -> None:
    bad_type = tmp_path / "bad-type"
    bad_type.write_bytes(b"\x00\x00\x07\x01" + struct.pack(">I", 0))
    with pytest.raises(DataError, match="type code 0x07"):
        read_idx(bad_type)
    bad_gz = tmp_path / "bad.gz"
    bad_gz.write_bytes(gzip.compress(b"\x00\x00\x08\x01" + bytes(range(256)) * 4)[:-12])
    with pytest.raises(DataError, match=re.escape(f"{bad_gz} is not a readable gzip file")):
        read_idx(bad_gz)


def test_missing_file_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="cannot be read"):
        read_idx(tmp_path / "nope")


# --- finding files --------------------------------------------------------------------------------


def test_find_idx_files_in_torchvision_layout(tmp_path: Path) -> None:
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for i, name in enumerate(NAMES):  # torchvision keeps a mix of raw and .gz files
        (raw / (name if i % 2 else f"{name}.gz")).write_bytes(b"")
    assert find_idx_files(tmp_path, NAMES) is None
    found = find_idx_files(tmp_path, NAMES, subdirs=["MNIST/raw"])
    assert found == {n: raw / (n if i % 2 else f"{n}.gz") for i, n in enumerate(NAMES)}


def test_find_idx_files_needs_all_from_one_place(tmp_path: Path) -> None:
    for name in NAMES[:3]:
        (tmp_path / name).write_bytes(b"")
    assert find_idx_files(tmp_path, NAMES) is None
    (tmp_path / f"{NAMES[3]}.gz").write_bytes(b"")
    (tmp_path / f"{NAMES[0]}.gz").write_bytes(b"")
    found = find_idx_files(tmp_path, NAMES)
    assert found is not None and found[NAMES[0]] == tmp_path / NAMES[0]  # raw preferred
    assert found[NAMES[3]] == tmp_path / f"{NAMES[3]}.gz"


# --- places ---------------------------------------------------------------------------------------


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


def test_download_writes_file_or_raises_data_error(tmp_path: Path) -> None:
    source = tmp_path / "remote.bin"
    source.write_bytes(b"payload")
    assert download(source.as_uri(), tmp_path / "out" / "local.bin").read_bytes() == b"payload"
    url = (tmp_path / "absent.bin").as_uri()
    with pytest.raises(DataError, match=re.escape(f"Downloading {url} failed")):
        download(url, tmp_path / "out" / "absent.bin")
    assert not (tmp_path / "out" / "absent.bin").exists()


# --- restricted unpickling ------------------------------------------------------------------------


def _py2_array(code: str, byteorder: str, shape: tuple[int, ...], raw: bytes) -> bytes:
    """The opcodes numpy under Python 2 wrote for one array (as in MNIST's mnist.pkl.gz)."""

    def s(b: bytes) -> bytes:  # SHORT_BINSTRING
        return b"U" + bytes([len(b)]) + b

    dims = b"(" + b"".join(b"J" + struct.pack("<i", d) for d in shape) + b"t"
    dtype = b"cnumpy\ndtype\n" + s(code.encode()) + b"K\x00K\x01\x87R"
    dtype += b"(K\x03" + s(byteorder.encode()) + b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb"
    array = b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85" + s(b"b") + b"\x87R"
    return array + b"(K\x01" + dims + dtype + b"\x89T" + struct.pack("<i", len(raw)) + raw + b"tb"


def _little_endian_bytes(t: torch.Tensor) -> bytes:
    assert sys.byteorder == "little"
    return bytes(t.contiguous().view(torch.uint8).reshape(-1).tolist())


def test_restricted_unpickle_reads_python2_pickle_without_numpy(monkeypatch: pytest.MonkeyPatch) -> None:
    images = torch.arange(12, dtype=torch.float32).reshape(3, 4) / 256
    labels = torch.tensor([7, 2, 1], dtype=torch.int64)
    big = torch.tensor([1.5, -2.0], dtype=torch.float64)
    data = (
        b"\x80\x02("
        + _py2_array("f4", "<", (3, 4), _little_endian_bytes(images))
        + _py2_array("i8", "<", (3,), _little_endian_bytes(labels))
        + _py2_array("f8", ">", (2,), struct.pack(">2d", 1.5, -2.0))
        + b"t."
    )
    monkeypatch.setitem(sys.modules, "numpy", None)  # any import of numpy now fails
    got = restricted_unpickle(io.BytesIO(data), "mnist.pkl")
    assert isinstance(got, tuple) and len(got) == 3
    assert got[0].dtype == torch.float32 and torch.equal(got[0], images)
    assert got[1].dtype == torch.int64 and torch.equal(got[1], labels)
    assert got[2].dtype == torch.float64 and torch.equal(got[2], big)


@pytest.mark.parametrize("protocol", [2, 4])
def test_restricted_unpickle_reads_numpy_pickles(tmp_path: Path, protocol: int) -> None:
    np = pytest.importorskip("numpy")
    arrays = {
        "f4": np.arange(6, dtype=np.float32).reshape(2, 3) / 7,
        "big": np.arange(4, dtype=">i4"),
        "u1": np.array([[0, 255], [17, 3]], dtype=np.uint8),
        "fortran": np.asfortranarray(np.arange(6, dtype=np.float64).reshape(2, 3)),
        "bool": np.array([True, False]),
        "empty": np.zeros((0, 3), dtype=np.int64),
    }
    path = tmp_path / "arrays.pkl"
    path.write_bytes(pickle.dumps(((arrays["f4"], arrays["big"]), [arrays["u1"]], arrays), protocol=protocol))
    with open(path, "rb") as f:
        (f4, big), [u1], as_dict = restricted_unpickle(f)
    assert f4.dtype == torch.float32 and torch.equal(f4, torch.tensor(arrays["f4"].tolist()))
    assert big.dtype == torch.int32 and big.tolist() == [0, 1, 2, 3]
    assert u1.dtype == torch.uint8 and u1.tolist() == [[0, 255], [17, 3]]
    assert as_dict["fortran"].tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert as_dict["bool"].dtype == torch.bool and as_dict["bool"].tolist() == [True, False]
    assert as_dict["empty"].shape == (0, 3)
    u1 += 1  # the tensors own writable memory
    assert u1[0, 0].item() == 1


class _Evil:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("protocol", [2, 4])
def test_restricted_unpickle_refuses_os_system(tmp_path: Path, protocol: int) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps((1, _Evil(marker)), protocol=protocol))
    assert not marker.exists()
    with open(path, "rb") as f, pytest.raises(DataError) as err:
        restricted_unpickle(f)
    assert not marker.exists(), "the pickle's command ran"
    message = str(err.value)
    assert "refuses to load" in message and str(path) in message
    assert f"{os.system.__module__}.system" in message and "not part of a numpy array" in message


def test_restricted_unpickle_refuses_other_numpy_globals_and_garbage(tmp_path: Path) -> None:
    sneaky = b"\x80\x02cnumpy\nload\nU\x03/x/\x85R."
    with pytest.raises(DataError, match=r"numpy\.load, which is not part of a numpy array"):
        restricted_unpickle(io.BytesIO(sneaky), "sneaky.pkl")
    with pytest.raises(DataError, match=r"garbage\.pkl is not a readable pickle"):
        restricted_unpickle(io.BytesIO(b"\x80\x02(K\x01"), "garbage.pkl")
