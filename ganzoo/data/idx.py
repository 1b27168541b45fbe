"""IDX files (the format of MNIST and Fashion-MNIST), raw or gzip'd: read, checked, written.

Nothing here is specific to one dataset. Files are read without numpy: the bytes go straight
into a tensor, byte-swapped from IDX's big-endian order where the machine needs it.
"""

from __future__ import annotations

import gzip
import hashlib
import math
import os
import struct
import sys
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import torch

from ganzoo.data.locate import and_join
from ganzoo.errors import DataError
from ganzoo.files import atomic_write_bytes, sha256_file

GZIP_MAGIC = b"\x1f\x8b"


def tensor_from_bytes(
    buf: bytearray,
    dtype: torch.dtype,
    shape: Sequence[int],
    offset: int = 0,
    big_endian: bool = False,
    fortran: bool = False,
) -> torch.Tensor:
    """A tensor over (or copied from) ``buf[offset:]``, whose length the caller has checked."""
    shape = tuple(shape)
    count = math.prod(shape)
    if count == 0:
        return torch.empty(shape, dtype=dtype)
    itemsize = torch.empty((), dtype=dtype).element_size()
    swap = itemsize > 1 and big_endian != (sys.byteorder == "big")
    if not swap and offset % itemsize == 0:
        flat = torch.frombuffer(buf, dtype=dtype, count=count, offset=offset)
    else:
        raw = torch.frombuffer(buf, dtype=torch.uint8, count=count * itemsize, offset=offset)
        # Reversing each item's bytes swaps the byte order; the copy is also aligned for dtype.
        raw = raw.view(-1, itemsize).flip(1) if swap else raw.clone()
        flat = raw.reshape(-1).view(dtype)
    if fortran:
        return flat.reshape(shape[::-1]).permute(*reversed(range(len(shape)))).contiguous()
    return flat.reshape(shape)


# --- IDX ------------------------------------------------------------------------------------------

#: IDX type code → (torch dtype, bytes per item); IDX data is always big-endian.
_IDX_TYPES: dict[int, tuple[torch.dtype, int]] = {
    0x08: (torch.uint8, 1),
    0x09: (torch.int8, 1),
    0x0B: (torch.int16, 2),
    0x0C: (torch.int32, 4),
    0x0D: (torch.float32, 4),
    0x0E: (torch.float64, 8),
}
_IDX_CODES = {dtype: code for code, (dtype, _) in _IDX_TYPES.items()}


#: The most an IDX header may declare: its items, and its data in bytes. Far above any real
#: dataset (MNIST's training images are 47 MB) and far below what would exhaust a machine: a
#: damaged or hostile header is refused before anything is allocated for it.
MAX_IDX_ITEMS = 2**31
MAX_IDX_BYTES = 8 * 2**30
#: How much of a gzip'd file is decompressed at a time: memory grows only as real data arrives,
#: so a small file whose header declares a huge payload costs no more than its own content.
_CHUNK = 4 << 20


def read_idx(path: Path) -> torch.Tensor:
    """Read an IDX file (raw or gzip'd) into a tensor of its declared shape and type, checking structure.

    The header is read first and bounds everything after it: at most the declared data plus one
    byte is read (the one byte tells trailing junk), so a decompression bomb or a header that
    declares an absurd size is refused in one sentence without being read whole.
    """
    path = Path(path)
    try:
        f = open(path, "rb")  # noqa: SIM115 (closed below; only the open itself gets this message)
    except OSError as exc:
        raise DataError(f"{path} cannot be read: {exc.strerror or exc}.") from exc
    with f:
        if f.read(2) != GZIP_MAGIC:
            f.seek(0)
            return _read_idx_stream(path, f, os.fstat(f.fileno()).st_size)
        f.seek(0)
        try:
            with gzip.GzipFile(fileobj=f) as gz:
                return _read_idx_stream(path, gz, None)
        except (OSError, EOFError, zlib.error) as exc:
            raise DataError(f"{path} is not a readable gzip file: {exc}.") from exc


class _Stream(Protocol):
    """An open file or a GzipFile: what an IDX file is read from."""

    def read(self, n: int, /) -> bytes: ...

    def readinto(self, buffer: bytearray, /) -> int: ...


def _read_idx_stream(path: Path, f: _Stream, size: int | None) -> torch.Tensor:
    """The IDX content of ``f`` (``size`` bytes long if known: a raw file), read no further than declared."""
    head = _read_at_most(f, 4)
    if len(head) < 4 or head[0] != 0 or head[1] != 0:
        raise DataError(
            f"{path} is not an IDX file: it does not start with the IDX magic number "
            f"(two zero bytes, a type code and a dimension count)."
        )
    code, ndim = head[2], head[3]
    if code not in _IDX_TYPES:
        raise DataError(f"{path} is not a valid IDX file: its type code 0x{code:02x} is not an IDX type.")
    if ndim == 0:
        raise DataError(f"{path} is not a valid IDX file: its header declares no dimensions.")
    sizes = _read_at_most(f, 4 * ndim)
    if len(sizes) < 4 * ndim:
        raise DataError(
            f"{path} is truncated: its header declares {ndim} dimensions, "
            f"but the file ends after {4 + len(sizes)} bytes."
        )
    dims = struct.unpack(f">{ndim}I", sizes)
    dtype, itemsize = _IDX_TYPES[code]
    count = math.prod(dims)
    expected = count * itemsize
    if count > MAX_IDX_ITEMS or expected > MAX_IDX_BYTES:
        raise DataError(
            f"{path} is not a valid IDX file: its header declares {'x'.join(map(str, dims))} items "
            f"({expected / 2**30:.1f} GiB), more than ganzoo reads from one file "
            f"({MAX_IDX_ITEMS} items or {MAX_IDX_BYTES // 2**30} GiB)."
        )
    header = 4 + 4 * ndim
    if size is not None:  # a raw file: its size tells the outcome before anything is read
        found = size - header
        if found < expected:
            raise DataError(f"{path} is truncated: expected {expected} bytes of data, found {found}.")
        if found > expected:
            raise DataError(
                f"{path} is not a valid IDX file: expected {expected} bytes of data after its header, "
                f"found {found}."
            )
        buf = bytearray(expected)  # exactly what the file holds, read in place
        if f.readinto(buf) != expected:
            raise DataError(f"{path} changed while it was read.")
        return tensor_from_bytes(buf, dtype, dims, big_endian=True)
    buf = _read_at_most(f, expected + 1)
    if len(buf) < expected:
        raise DataError(f"{path} is truncated: expected {expected} bytes of data, found {len(buf)}.")
    if len(buf) > expected:
        raise DataError(
            f"{path} is not a valid IDX file: expected {expected} bytes of data after its header, found more."
        )
    return tensor_from_bytes(buf, dtype, dims, big_endian=True)


def _read_at_most(f: _Stream, limit: int) -> bytearray:
    """Up to ``limit`` bytes of ``f``, fewer only at its end; memory grows with what is really read."""
    buf = bytearray()
    while len(buf) < limit:
        chunk = f.read(min(_CHUNK, limit - len(buf)))
        if not chunk:
            break
        buf += chunk
    return buf


def encode_idx(tensor: torch.Tensor) -> bytes:
    """The bytes of a standard uncompressed IDX file holding ``tensor`` (uint8, int8/16/32, float32/64)."""
    t = tensor.detach().cpu().contiguous()
    if t.dtype not in _IDX_CODES:
        raise ValueError(f"IDX files cannot hold {t.dtype} data")
    if not 1 <= t.dim() <= 255:
        raise ValueError(f"IDX files hold 1 to 255 dimensions, not {t.dim()}")
    head = bytes([0, 0, _IDX_CODES[t.dtype], t.dim()]) + struct.pack(f">{t.dim()}I", *t.shape)
    out = bytearray(len(head) + t.numel() * t.element_size())
    out[: len(head)] = head
    if t.numel():
        raw = t.reshape(-1).view(torch.uint8)
        if t.element_size() > 1 and sys.byteorder == "little":
            raw = raw.view(-1, t.element_size()).flip(1).reshape(-1)
        torch.frombuffer(out, dtype=torch.uint8, offset=len(head)).copy_(raw)
    return bytes(out)


def write_idx(path: Path, tensor: torch.Tensor) -> None:
    """Write ``tensor`` as a standard uncompressed IDX file, atomically."""
    atomic_write_bytes(Path(path), encode_idx(tensor))


def find_idx_files(folder: Path, names: Sequence[str], subdirs: Sequence[str] = ()) -> dict[str, Path] | None:
    """Where each of ``names`` is (raw, else ``NAME.gz``), all from one place, or None.

    The places are ``folder`` itself, then each of ``subdirs`` below it (torchvision keeps its
    files in ``ROOT/MNIST/raw/``, for instance).
    """
    folder = Path(folder)
    for place in [folder, *(folder / sub for sub in subdirs)]:
        found = present(place, names)
        if len(found) == len(names):
            return found
    return None


def present(place: Path, names: Sequence[str]) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for name in names:
        for candidate in (place / name, place / f"{name}.gz"):
            if candidate.is_file():
                found[name] = candidate
                break
    return found


def why_missing(folder: Path, names: Sequence[str], subdirs: Sequence[str] = ()) -> str:
    """Why :func:`find_idx_files` found nothing in ``folder``, in a few words."""
    if not folder.is_dir():
        return "no such folder"
    best = max((present(place, names) for place in [folder, *(folder / sub for sub in subdirs)]), key=len)
    if not best:
        return "none of the files"
    return "missing " + and_join(n for n in names if n not in best)


def sha256_uncompressed(path: Path) -> str:
    """The sha256 of a file's content, gunzipped first when it is a gzip file."""
    with open(path, "rb") as f:
        if f.read(2) != GZIP_MAGIC:
            return sha256_file(path)
    h = hashlib.sha256()
    try:
        with gzip.open(path, "rb") as gz:
            while block := gz.read(1 << 20):
                h.update(block)
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"{path} is not a readable gzip file: {exc}.") from exc
    return h.hexdigest()
