"""Downloads are atomic and fail in one sentence."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ganzoo.data import (
    download,
)
from ganzoo.errors import DataError


def test_download_writes_file_or_raises_data_error(tmp_path: Path) -> None:
    source = tmp_path / "remote.bin"
    source.write_bytes(b"payload")
    assert download(source.as_uri(), tmp_path / "out" / "local.bin").read_bytes() == b"payload"
    url = (tmp_path / "absent.bin").as_uri()
    with pytest.raises(DataError, match=re.escape(f"Downloading {url} failed")):
        download(url, tmp_path / "out" / "absent.bin")
    assert not (tmp_path / "out" / "absent.bin").exists()
