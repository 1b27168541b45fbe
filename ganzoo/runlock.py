"""One writer per run directory: a lock file inside it, held by whatever writes the run.

``ganzoo train`` (a new run, or ``--resume``) holds it from the moment it creates or reopens the
folder to its last write. A second writer is refused in one sentence that names the process
holding it. The lock is the operating system's (filelock: ``flock`` on POSIX), so a writer that
was killed leaves no lock behind, only a stale ``.lock.owner`` note that the next writer replaces.
Light: no torch.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

from ganzoo.errors import RunDirError
from ganzoo.files import atomic_write_text

LOCK = ".lock"
#: Who holds the lock: pid, host, command and since when (JSON), for the refusal's sentence.
OWNER = ".lock.owner"


class RunLock:
    """The write lock of the run directory ``path`` (which must exist); a context manager."""

    def __init__(self, path: Path) -> None:
        from filelock import FileLock

        self.path = Path(path)
        self._lock = FileLock(str(self.path / LOCK), timeout=0)

    def acquire(self) -> RunLock:
        """Take the lock and leave a note of who holds it; one sentence if another process does."""
        self._take()
        owner = {"pid": os.getpid(), "host": socket.gethostname(), "command": _command()}
        owner["since"] = time.strftime("%Y-%m-%d %H:%M:%S")
        atomic_write_text(self.path / OWNER, json.dumps(owner))
        return self

    def check_free(self) -> None:
        """Refuse now, before anything is read, if another process is writing the run.

        Creates nothing: with no lock file there is no writer (a writer removes it when done).
        """
        if (self.path / LOCK).exists():
            self._take()
            self._lock.release()

    def _take(self) -> None:
        from filelock import Timeout

        try:
            self._lock.acquire()
        except Timeout:
            raise RunDirError(
                f"{self.path} is being written by {self.holder()}; wait for it to finish, or stop it "
                "(Ctrl-C, or kill PID: either writes a checkpoint) and resume it then."
            ) from None
        except OSError as exc:
            raise RunDirError(
                f"{self.path} cannot be locked for writing ({exc.strerror or exc}); is the folder read-only?"
            ) from exc

    def release(self) -> None:
        # Both files go, so a run leaves nothing of its lock behind. Nobody waits on the lock (a
        # second writer is refused at once), so unlinking it before the release leaves only the
        # microseconds between another process's open and its flock for two holders to meet.
        # A folder removed or made read-only under us: the lock still goes with the process.
        with contextlib.suppress(OSError):
            (self.path / OWNER).unlink(missing_ok=True)
            (self.path / LOCK).unlink(missing_ok=True)
        self._lock.release()

    def holder(self) -> str:
        """The process holding the lock, in words, from its owner note."""
        try:
            owner: dict[str, Any] = json.loads((self.path / OWNER).read_text(encoding="utf-8"))
            where = "" if owner.get("host") == socket.gethostname() else f" on {owner.get('host')}"
            return (
                f"another ganzoo process (pid {owner['pid']}{where}: `{owner['command']}`, "
                f"since {owner['since']})"
            )
        except (OSError, ValueError, KeyError, TypeError):
            return "another ganzoo process"

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


@contextlib.contextmanager
def writing(path: Path) -> Iterator[bool]:
    """Hold the run's lock for a short write into it (``ganzoo eval``'s eval.json, ``generate``'s
    samples), if no one else does: yields True with the lock held, False when another process is
    writing the run (the caller then writes elsewhere, or nothing) or the folder cannot be locked."""
    lock = RunLock(path)
    try:
        lock.acquire()
    except RunDirError:
        yield False
        return
    try:
        yield True
    finally:
        lock.release()


def _command() -> str:
    """This process's command line as the user typed it (``python -m ganzoo`` shown as ganzoo)."""
    program = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python"
    return " ".join(["ganzoo" if program == "__main__.py" else program, *sys.argv[1:]])[:200]
