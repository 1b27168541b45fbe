"""IDX files: round trips, the gzip magic, big-endian types, and every way a file can be wrong."""

from __future__ import annotations

import gzip
import re
import struct
import tracemalloc
from pathlib import Path

import pytest
import torch

from ganzoo.data import (
    find_idx_files,
    read_idx,
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


def _gzip_stream(path: Path, head: bytes, zeros: int) -> None:
    """A gzip'd IDX file of ``head`` then ``zeros`` zero bytes, written in pieces (never held whole)."""
    with gzip.open(path, "wb", compresslevel=1) as gz:
        gz.write(head)
        block = bytes(1 << 20)
        for _ in range(zeros >> 20):
            gz.write(block)


def test_a_decompression_bomb_is_refused_without_being_read_whole(tmp_path: Path) -> None:
    # 5 images declared (3920 bytes), 64 MB of zeros inflated from a file of about 300 KB.
    path = tmp_path / "train-images-idx3-ubyte.gz"
    _gzip_stream(path, b"\x00\x00\x08\x03" + struct.pack(">3I", 5, 28, 28), 64 << 20)
    tracemalloc.start()
    try:
        with pytest.raises(DataError) as err:
            read_idx(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(path) in str(err.value) and "expected 3920 bytes of data after its header, found more" in str(
        err.value
    )
    assert peak < 16 << 20, f"reading the bomb allocated {peak >> 20} MB"


@pytest.mark.parametrize("compressed", [False, True])
def test_a_header_declaring_an_absurd_size_is_refused_before_allocating(
    tmp_path: Path, compressed: bool
) -> None:
    head = b"\x00\x00\x0d\x03" + struct.pack(">3I", 60000, 60000, 28)  # 100 billion floats, 375 GiB
    path = tmp_path / "images"
    path.write_bytes(gzip.compress(head + bytes(4096)) if compressed else head + bytes(4096))
    with pytest.raises(DataError) as err:
        read_idx(path)
    assert str(path) in str(err.value)
    assert "declares 60000x60000x28 items" in str(err.value) and "more than ganzoo reads" in str(err.value)


def test_a_gzip_file_declaring_more_than_it_holds_is_truncated(tmp_path: Path) -> None:
    path = tmp_path / "labels.gz"
    path.write_bytes(gzip.compress(b"\x00\x00\x08\x01" + struct.pack(">I", 10) + bytes(4)))
    with pytest.raises(DataError, match="is truncated: expected 10 bytes of data, found 4"):
        read_idx(path)
