"""CIFAR-10 from its official python batches, unpickled without numpy and without running code."""

from __future__ import annotations

import hashlib
import tarfile
import tempfile
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

import torch

from ganzoo.components import Dataset, DataStatus
from ganzoo.data.fetch import announce, download
from ganzoo.data.locate import NotThere, Source, fix_offline, locate, no_data_folder
from ganzoo.data.paths import cache_dir, user_data_dir
from ganzoo.data.unpickle import restricted_unpickle
from ganzoo.errors import DataError, UsageError
from ganzoo.files import atomic_write_bytes, md5_file

URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
TARBALL = "cifar-10-python.tar.gz"
TARBALL_MD5 = "c58f30108f718f92721af3b95e74349a"
FOLDER = "cifar-10-batches-py"
#: Seconds one read from the server may stall (the tarball is 163 MB).
TIMEOUT = 30.0


class CIFAR10(Dataset):
    """The 60,000 32x32 colour images of CIFAR-10 (Krizhevsky, 2009), 3x32x32.

    The six python batches are looked for in ``--data-dir``/``$GANZOO_DATA`` (flat or in
    ``cifar-10-batches-py/``), then the cache; unless ``GANZOO_OFFLINE`` is set, the official
    tarball is downloaded from torchvision's URL and its batches are stored in the cache. A
    tarball already in the data folder is unpacked into the cache without a download.
    """

    name = "cifar10"
    modality = "image"
    shape = (3, 32, 32)
    value_range = (0.0, 1.0)
    #: batches.meta's label_names, in label order.
    classes = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
    splits = ("train", "test")
    cache_name = "cifar10"
    files: ClassVar[dict[str, tuple[str, ...]]] = {
        "train": tuple(f"data_batch_{i}" for i in range(1, 6)),
        "test": ("test_batch",),
    }
    #: torchvision's md5 of each official batch.
    md5: ClassVar[dict[str, str]] = {
        "data_batch_1": "c99cafc152244af753f735de768cd75f",
        "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
        "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
        "data_batch_4": "634d18415352ddfa80567beed471001a",
        "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
        "test_batch": "40351d587109b95175f43aff81a1287e",
    }

    def __init__(self, data_dir: Path | None = None, **params: Any) -> None:
        super().__init__(data_dir, **params)
        self._loaded: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
        self._folder: Path | None = None

    # -- what the rest of ganzoo calls

    def load(self, split: str = "train") -> torch.Tensor:
        """All images of ``split`` as float32 (N, 3, 32, 32) in [0, 1]."""
        return self._split(split)[0]

    def labels(self, split: str = "train") -> torch.Tensor:
        """The int64 class labels (0-9) of ``split``, in the order of :meth:`load`'s images."""
        return self._split(split)[1]

    def fetch(self) -> str:
        return str(locate(self.sources(), True, self._nowhere))

    def status(self) -> DataStatus:
        try:
            return DataStatus(True, str(locate(self.sources(), False, self._nowhere)))
        except DataError:
            return DataStatus(False, str(self.cache_path()))

    def cache_path(self) -> Path:
        return cache_dir(self.cache_name) / FOLDER

    # -- the work

    def _split(self, split: str) -> tuple[torch.Tensor, torch.Tensor]:
        if split not in self.files:
            raise UsageError(
                f"The dataset '{self.display_name()}' has no split '{split}'; choose train or test."
            )
        if split not in self._loaded:
            if self._folder is None:
                self._folder = locate(self.sources(), True, self._nowhere)
            batches = [self._read_batch(self._folder / name) for name in self.files[split]]
            pixels = torch.cat([b[0] for b in batches])
            images = pixels.reshape(-1, *self.shape).to(torch.float32).div_(255.0)
            self._loaded[split] = images, torch.cat([b[1] for b in batches])
        return self._loaded[split]

    def _read_batch(self, path: Path) -> tuple[torch.Tensor, torch.Tensor]:
        try:
            with open(path, "rb") as f:
                batch = restricted_unpickle(f, str(path))
        except OSError as exc:
            raise DataError(f"{path} cannot be read: {exc.strerror or exc}.") from exc
        if not isinstance(batch, dict) or b"data" not in batch or b"labels" not in batch:
            raise DataError(
                f"{path} is not a CIFAR-10 batch: it does not hold a dict with b'data' and b'labels'."
            )
        data, labels = batch[b"data"], batch[b"labels"]
        if (
            not isinstance(data, torch.Tensor)
            or data.dtype != torch.uint8
            or data.dim() != 2
            or (data.shape[1] != 3072)
        ):
            what = (
                f"{tuple(data.shape)} {data.dtype}" if isinstance(data, torch.Tensor) else type(data).__name__
            )
            raise DataError(f"{path} holds data of {what}; a CIFAR-10 batch holds (N, 3072) uint8 pixels.")
        try:
            labels_t = torch.as_tensor(labels, dtype=torch.int64).reshape(-1)
        except (TypeError, ValueError, RuntimeError) as exc:
            raise DataError(f"{path} holds labels that are not a list of integers: {exc}.") from exc
        if labels_t.shape[0] != data.shape[0]:
            raise DataError(
                f"{path} holds {data.shape[0]} images but {labels_t.shape[0]} labels; the file is corrupt."
            )
        return data, labels_t

    def _names(self) -> list[str]:
        return [name for names in self.files.values() for name in names]

    def sources(self) -> list[Source]:
        """The user's folder (flat or in cifar-10-batches-py/), the cache, a tarball in the user's
        folder (unpacked into the cache), then the official tarball's download."""
        user, cache = user_data_dir(self.data_dir), self.cache_path()
        out = [
            no_data_folder()
            if user is None
            else Source(f"the data folder {user}", partial(self._in_user, user))
        ]
        out.append(Source(f"the cache {cache}", partial(self._cached, cache)))
        if user is not None and (user / TARBALL).is_file():
            out.append(
                Source(str(user / TARBALL), partial(self._unpacked, user / TARBALL, cache), fetches=True)
            )
        out.append(Source(URL, partial(self._downloaded, cache), fetches=True, network=True))
        return out

    def _in_user(self, user: Path) -> Path:
        names = self._names()
        for place in (user, user / FOLDER):
            if all((place / n).is_file() for n in names):
                return place
        missing = [n for n in names if not (user / n).is_file() and not (user / FOLDER / n).is_file()]
        raise NotThere(f"flat or in {FOLDER}/; missing {', '.join(missing)}")

    def _cached(self, cache: Path) -> Path:
        why = self._check_cache(cache)
        if why:
            raise NotThere(why)
        return cache

    def _unpacked(self, tarball: Path, cache: Path) -> Path:
        self._unpack(tarball, cache)
        return cache

    def _downloaded(self, cache: Path) -> Path:
        with tempfile.TemporaryDirectory(prefix="ganzoo-cifar10-") as tmp:
            announce(f"fetching CIFAR-10: {URL} (163 MB), unpacked into {cache} ...")
            self._unpack(download(URL, Path(tmp) / TARBALL, timeout=TIMEOUT), cache)
        return cache

    def _check_cache(self, cache: Path) -> str:
        """Why the cache's batches cannot be used, or "" when all are there and match their md5."""
        names = self._names()
        if not cache.is_dir():
            return "empty"
        missing = [n for n in names if not (cache / n).is_file()]
        if missing:
            return f"missing {', '.join(missing)}"
        for name in names:
            if md5_file(cache / name) != self.md5[name]:
                return f"{name} fails its md5 check"
        return ""

    def _unpack(self, tarball: Path, dest: Path) -> None:
        """Check the tarball's md5, then write its six batches (and nothing else) into ``dest``."""
        actual = md5_file(tarball)
        if actual != TARBALL_MD5:
            raise DataError(f"{tarball.name} fails its md5 check (expected {TARBALL_MD5}, got {actual})")
        wanted = {f"{FOLDER}/{name}": name for name in self._names()}
        found: dict[str, bytes] = {}
        try:
            with tarfile.open(tarball, "r:gz") as tar:
                for member in tar:
                    # Only the six regular files, by exact name: no paths of the archive's choosing.
                    if member.isfile() and member.name in wanted:
                        f = tar.extractfile(member)
                        if f is not None:
                            found[wanted[member.name]] = f.read()
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise DataError(f"{tarball.name} is not a readable .tar.gz: {exc}") from exc
        missing = [n for n in self._names() if n not in found]
        if missing:
            raise DataError(f"{tarball.name} does not hold {', '.join(f'{FOLDER}/{n}' for n in missing)}")
        for name, data in found.items():
            actual = hashlib.md5(data, usedforsecurity=False).hexdigest()
            if actual != self.md5[name]:
                raise DataError(f"{name} from {tarball.name} fails its md5 check; nothing was saved")
        for name, data in found.items():
            atomic_write_bytes(dest / name, data)

    def _nowhere(self, tried: str, skipped: bool) -> str:
        hint = (
            f"download {URL}, unpack it, and pass --data-dir PATH naming the folder that holds "
            f"{FOLDER}/ (or the batch files themselves); the tarball itself in that folder also works"
        )
        return (
            f"The dataset '{self.display_name()}' is not available: ganzoo looked for the CIFAR-10 python "
            f"batches data_batch_1 to data_batch_5 and test_batch in {tried}. "
            f"To fix it, {fix_offline(hint, skipped)}."
        )
