"""numpy pickles are read without numpy, and a pickle that would run code is refused."""

from __future__ import annotations

import io
import os
import pickle
import struct
import sys
from pathlib import Path

import pytest
import torch

from ganzoo.data import (
    restricted_unpickle,
)
from ganzoo.errors import DataError


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
