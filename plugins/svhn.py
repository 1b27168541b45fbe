"""SVHN's cropped house-number digits, read from the official ``train_32x32.mat``/``test_32x32.mat``."""

from __future__ import annotations

import os
import tempfile
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

import torch

from ganzoo.components import Dataset, DataStatus
from ganzoo.data.fetch import announce, download
from ganzoo.data.locate import NotThere, Source, fix_offline, locate, no_data_folder
from ganzoo.data.paths import cache_dir, user_data_dir
from ganzoo.errors import DataError, UsageError
from ganzoo.files import md5_file

URL = "http://ufldl.stanford.edu/housenumbers/"
#: Seconds one read from the server may stall: the files are large (182 MB and 64 MB).
TIMEOUT = 30.0


class SVHN(Dataset):
    """The Street View House Numbers (Netzer et al., 2011), 32x32 colour crops.

    ``train`` is ``train_32x32.mat`` (73,257 images); ``valid`` and ``test`` are the first and
    second halves of ``test_32x32.mat`` (13,016 each), as source 001 splits it. The files are
    looked for in ``--data-dir``/``$GANZOO_DATA`` (flat or in ``SVHN/``), then the cache; unless
    ``GANZOO_OFFLINE`` is set they are downloaded from torchvision's URLs into the cache.
    """

    name = "svhn"
    modality = "image"
    shape = (3, 32, 32)
    value_range = (0.0, 1.0)
    #: Label k is the digit k (the files write the digit 0 as 10; :meth:`labels` gives 0).
    classes = tuple(str(d) for d in range(10))
    splits = ("train", "valid", "test")
    cache_name = "svhn"
    #: split → the official file it comes from.
    files: ClassVar[dict[str, str]] = {
        "train": "train_32x32.mat",
        "valid": "test_32x32.mat",
        "test": "test_32x32.mat",
    }
    #: torchvision's md5 of each official file.
    md5: ClassVar[dict[str, str]] = {
        "train_32x32.mat": "e26dedcc434d2e4c54c9b2d4a06d8373",
        "test_32x32.mat": "eb5a983be6a315427106f1b164d9cef3",
    }
    subdirs: ClassVar[list[str]] = ["SVHN"]

    def __init__(self, data_dir: Path | None = None, **params: Any) -> None:
        super().__init__(data_dir, **params)
        self._arrays: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}  # file name → (images, labels)

    # -- what the rest of ganzoo calls

    def load(self, split: str = "train") -> torch.Tensor:
        """All images of ``split`` as float32 (N, 3, 32, 32) in [0, 1]."""
        return self._split(split)[0]

    def labels(self, split: str = "train") -> torch.Tensor:
        """The int64 digit labels (0-9) of ``split``, in the order of :meth:`load`'s images."""
        return self._split(split)[1]

    def fetch(self) -> str:
        """Where the two files are, downloading any missing one into the cache."""
        places = {self._locate(name, fetch=True)[1] for name in self.md5}
        return "; ".join(sorted(places))

    def status(self) -> DataStatus:
        try:
            places = {self._locate(name, fetch=False)[1] for name in self.md5}
        except DataError:
            return DataStatus(False, str(self.cache_path()))
        return DataStatus(True, "; ".join(sorted(places)))

    def cache_path(self) -> Path:
        return cache_dir(self.cache_name)

    # -- the work

    def _split(self, split: str) -> tuple[torch.Tensor, torch.Tensor]:
        if split not in self.files:
            raise UsageError(
                f"The dataset '{self.display_name()}' has no split '{split}'; "
                f"choose {', '.join(self.splits)}."
            )
        name = self.files[split]
        if name not in self._arrays:
            self._arrays[name] = self._read(self._locate(name, fetch=True)[0])
        images, labels = self._arrays[name]
        if split == "train":
            return images, labels
        half = images.shape[0] // 2
        rows = slice(0, half) if split == "valid" else slice(half, None)
        return images[rows], labels[rows]

    def _read(self, path: Path) -> tuple[torch.Tensor, torch.Tensor]:
        try:
            import scipy.io
        except ImportError as exc:
            raise DataError(
                f"Reading SVHN's {path.name} needs scipy, which is not installed; "
                f"install it with `pip install 'ganzoo[svhn]'`."
            ) from exc
        try:
            mat = scipy.io.loadmat(path, variable_names=["X", "y"])
        except NotImplementedError as exc:  # MATLAB v7.3 (HDF5) files, which scipy cannot read
            raise DataError(f"{path} cannot be read: {exc}. The official SVHN files are MATLAB v5.") from exc
        except Exception as exc:  # scipy raises many kinds on a file that is not a .mat
            raise DataError(f"{path} is not a readable MATLAB .mat file: {exc}.") from exc
        missing = [k for k in ("X", "y") if k not in mat]
        if missing:
            found = sorted(k for k in mat if not k.startswith("__")) or ["no variables"]
            raise DataError(
                f"{path} does not hold SVHN data: it has no variable {' or '.join(map(repr, missing))} "
                f"(it holds {', '.join(found)}); SVHN's .mat files hold X (32x32x3xN images) and y (labels)."
            )
        x, y = mat["X"], mat["y"]
        if x.ndim != 4 or tuple(x.shape[:3]) != (32, 32, 3) or str(x.dtype) != "uint8":
            raise DataError(
                f"{path} holds X of shape {'x'.join(map(str, x.shape))} and type {x.dtype}; "
                f"SVHN's X is 32x32x3xN uint8 images."
            )
        n = x.shape[3]
        if y.size != n:
            raise DataError(f"{path} holds {n} images in X but {y.size} labels in y; the file is corrupt.")
        # (H, W, C, N) → (N, C, H, W) in one copy, then to [0, 1].
        images = (
            torch.as_tensor(x).permute(3, 2, 0, 1).to(torch.float32, memory_format=torch.contiguous_format)
        )
        labels = torch.as_tensor(y.reshape(-1)).to(torch.int64) % 10  # SVHN writes the digit 0 as 10
        return images.div_(255.0), labels

    def _locate(self, name: str, fetch: bool) -> tuple[Path, str]:
        """Where ``name`` is, and the folder it is in; downloads it into the cache if ``fetch``."""
        user, cache = user_data_dir(self.data_dir), self.cache_path()
        sources = [
            no_data_folder()
            if user is None
            else Source(f"the data folder {user}", partial(self._in_user, user, name)),
            Source(f"the cache {cache}", partial(self._cached, cache, name)),
            Source(URL + name, partial(self._downloaded, cache, name), fetches=True, network=True),
        ]
        found: tuple[Path, str] = locate(sources, fetch, partial(self._nowhere, name))
        return found

    def _in_user(self, user: Path, name: str) -> tuple[Path, str]:
        for place in [user, *(user / sub for sub in self.subdirs)]:
            if (place / name).is_file():
                return place / name, str(place)
        raise NotThere("flat or in " + " or ".join(f"{s}/" for s in self.subdirs))

    def _cached(self, cache: Path, name: str) -> tuple[Path, str]:
        path = cache / name
        if not path.is_file():
            raise NotThere(f"no {name}")
        if md5_file(path) != self.md5[name]:
            raise NotThere(f"{name} fails its md5 check")
        return path, str(cache)

    def _downloaded(self, cache: Path, name: str) -> tuple[Path, str]:
        self._download(URL + name, cache / name)
        return cache / name, str(cache)

    def _download(self, url: str, dest: Path) -> None:
        announce(f"fetching SVHN: {url} into {dest.parent} ...")
        dest.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".download-") as tmp:
            part = download(url, Path(tmp) / dest.name, timeout=TIMEOUT)
            actual = md5_file(part)
            if actual != self.md5[dest.name]:
                raise DataError(
                    f"the download fails its md5 check (expected {self.md5[dest.name]}, got {actual}); "
                    f"it was not saved"
                )
            os.replace(part, dest)

    def _nowhere(self, name: str, tried: str, skipped: bool) -> str:
        hint = (
            f"download {' and '.join(self.md5)} from {URL} and put them in a folder passed with "
            f"--data-dir PATH (flat or in its SVHN/ subfolder), or in {self.cache_path()}"
        )
        return (
            f"The dataset '{self.display_name()}' is not available: ganzoo looked for {name} in "
            f"{tried}. To fix it, {fix_offline(hint, skipped)}."
        )
