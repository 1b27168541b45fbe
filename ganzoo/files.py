"""Files written so that a kill at any moment leaves either the old file or the new one, whole;
their hashes; and the header of a safetensors file, read without torch."""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ganzoo.errors import RunDirError


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    return _digest(path, hashlib.sha256(), chunk)


def md5_file(path: Path, chunk: int = 1 << 20) -> str:
    """The md5 that torchvision publishes for its downloads (a checksum here, not security)."""
    return _digest(path, hashlib.md5(usedforsecurity=False), chunk)


def _digest(path: Path, h: Any, chunk: int) -> str:
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it is fsynced and renamed onto ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the mode open() would
    try:
        try:
            yield tmp
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except OSError as exc:  # named by the file the user will look for, not by its temporary twin
            raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from exc
        except Exception as exc:
            # safetensors (Rust) and PIL report a full disk as their own errors, "... (os error 28)"
            code = re.search(r"os error (\d+)", str(exc))
            if code is None:
                raise
            raise OSError(int(code[1]), os.strerror(int(code[1])), str(path)) from exc
        _fsync_dir(path.parent)
    finally:
        if tmp.exists():
            tmp.unlink()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_with(path: Path, write: Callable[[Path], object]) -> None:
    """Let ``write`` fill a temporary file, then move it onto ``path``."""
    with atomic_path(path) as tmp:
        write(tmp)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def read_metadata(path: Path) -> dict[str, str]:
    """The metadata of a safetensors file, or a one-sentence error saying what is wrong with it.

    A file cut short or grown is refused here too: its metadata may read, but the file cannot
    serve, and a resume learns it before it writes anything.
    """
    header, start = read_header(path)
    why = _extent(path, header, start)
    if why:
        raise RunDirError(why)
    metadata = header.get("__metadata__") or {}
    if not isinstance(metadata, dict):
        raise RunDirError(f"{path} is not a safetensors file (its header is not a JSON object).")
    return {str(k): str(v) for k, v in metadata.items()}


def read_header(path: Path) -> tuple[dict[str, Any], int]:
    """A safetensors file's JSON header and where its data starts, read without torch."""
    path = Path(path)
    if not path.is_file():
        raise RunDirError(f"{path} does not exist.")
    try:
        with open(path, "rb") as f:
            head = f.read(8)
            if len(head) < 8:
                raise RunDirError(f"{path} is not a safetensors file (it is only {len(head)} bytes long).")
            n = int.from_bytes(head, "little")
            if n > 100_000_000 or n > os.fstat(f.fileno()).st_size - 8:
                raise RunDirError(f"{path} is not a safetensors file (its header is unreadable).")
            header = json.loads(f.read(n))
    except OSError as exc:
        raise RunDirError(f"{path} cannot be read: {exc.strerror or exc}.") from exc
    except ValueError as exc:  # UnicodeDecodeError is a ValueError too
        raise RunDirError(f"{path} is not a safetensors file (its header is not JSON).") from exc
    if not isinstance(header, dict):
        raise RunDirError(f"{path} is not a safetensors file (its header is not a JSON object).")
    return header, 8 + n


def damage(path: Path) -> str | None:
    """Why a safetensors file is not whole, as a sentence, or None when it is; reads only its header.

    The header gives every tensor's byte range, so a file cut short (a full disk, a copy that
    stopped) or grown is told without torch and without reading the data: what ``ganzoo show``
    needs to call a run damaged rather than finished.
    """
    try:
        header, start = read_header(path)
    except RunDirError as exc:
        return str(exc)
    return _extent(path, header, start)


def _extent(path: Path, header: dict[str, Any], start: int) -> str | None:
    """Why the file's size is not the one its header declares, or None."""
    ends = [0]
    for key, entry in header.items():
        if key == "__metadata__":
            continue
        offsets = entry.get("data_offsets") if isinstance(entry, dict) else None
        if not (
            isinstance(offsets, list)
            and len(offsets) == 2
            and all(isinstance(o, int) and not isinstance(o, bool) and o >= 0 for o in offsets)
        ):
            return f"{path} is not a safetensors file (its header gives no byte range for {key!r:.60})."
        ends.append(offsets[1])
    expected, size = start + max(ends), Path(path).stat().st_size
    if size < expected:
        return f"{path} is damaged: it is cut short ({size} of the {expected} bytes its header declares)."
    if size > expected:
        return f"{path} is damaged: it holds {size} bytes, more than the {expected} its header declares."
    return None
