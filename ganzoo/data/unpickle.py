"""numpy arrays out of a pickle, without numpy and without running the pickle's code.

A pickle runs code when it is loaded. :func:`restricted_unpickle` resolves only numpy's
array-reconstruction globals, to numpy-free stubs, so a pickle that names anything else
(``os.system``, say) is refused before it can run. Python 2 pickles (MNIST's classic
``mnist.pkl.gz``) are read too.
"""

from __future__ import annotations

import math
import pickle
import sys
import zlib
from typing import Any, Protocol

import torch

from ganzoo.data.idx import tensor_from_bytes
from ganzoo.errors import DataError

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
        self.tensor = tensor_from_bytes(buf, torch_dtype, shape, big_endian=big, fortran=bool(fortran))


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
