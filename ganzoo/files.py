"""Files written so that a kill at any moment leaves either the old file or the new one, whole;
their hashes; and the header of a safetensors file, read without torch."""

from __future__ import annotations

import hashlib
import json
import os
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
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
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
    """The metadata of a safetensors file, or a one-sentence error saying what is wrong with it."""
    path = Path(path)
    if not path.is_file():
        raise RunDirError(f"{path} does not exist.")
    try:
        with open(path, "rb") as f:
            head = f.read(8)
            if len(head) < 8:
                raise RunDirError(f"{path} is not a safetensors file (it is only {len(head)} bytes long).")
            n = int.from_bytes(head, "little")
            if n > 100_000_000 or n > path.stat().st_size - 8:
                raise RunDirError(f"{path} is not a safetensors file (its header is unreadable).")
            header = json.loads(f.read(n))
    except (ValueError, UnicodeDecodeError) as exc:
        raise RunDirError(f"{path} is not a safetensors file (its header is not JSON).") from exc
    metadata = header.get("__metadata__") if isinstance(header, dict) else None
    if not isinstance(header, dict) or not isinstance(metadata or {}, dict):
        raise RunDirError(f"{path} is not a safetensors file (its header is not a JSON object).")
    return {str(k): str(v) for k, v in (metadata or {}).items()}
