"""A dataset stored as IDX files, images and labels per split: MNIST's format, and Fashion-MNIST's."""

from __future__ import annotations

import gzip
import hashlib
import logging
import math
import tempfile
import zlib
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

import torch

from ganzoo.components import Dataset, DataStatus
from ganzoo.data.fetch import announce, download
from ganzoo.data.idx import find_idx_files, read_idx, sha256_uncompressed, why_missing
from ganzoo.data.locate import NotThere, Source, and_join, fix_offline, locate, no_data_folder
from ganzoo.data.paths import cache_dir, user_data_dir
from ganzoo.errors import DataError, UsageError
from ganzoo.files import atomic_write_bytes

log = logging.getLogger(__name__)

Found = tuple[dict[str, Path], str]  # the files by name, and the folder they are in


class IdxDataset(Dataset):
    """A dataset stored as IDX files (images and labels per split), found or fetched in a fixed order.

    Sources, first hit wins: the user's folder (``--data-dir`` or ``$GANZOO_DATA``), ganzoo's
    cache, :attr:`system_dirs`, then, unless ``GANZOO_OFFLINE=1``, :attr:`mirrors` (downloaded
    into the cache) and :meth:`extra_fetch`. Files in the user's folder and system folders
    are checked for structure only (a user's folder may hold a subset); what ganzoo writes into its
    cache must also match :attr:`sha256`.
    """

    #: The cache subfolder (default: :attr:`name`).
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
        found: Found = locate(self.sources(), True, self._nowhere)
        return found[1]

    def status(self) -> DataStatus:
        """Whether the files are on this machine now (nothing is downloaded), and where."""
        try:
            found: Found = locate(self.sources(), False, self._nowhere)
        except DataError:
            return DataStatus(False, str(self.cache_path()))
        return DataStatus(True, found[1])

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
        return cache_dir(self.cache_name or self.display_name())

    def sources(self) -> list[Source]:
        """Where the files are looked for, in order (see the class docstring)."""
        cache, user = self.cache_path(), user_data_dir(self.data_dir)
        out = [
            no_data_folder()
            if user is None
            else Source(f"the data folder {user}", partial(self._in_user, user))
        ]
        out.append(Source(f"the cache {cache}", partial(self._cached, cache)))
        out += [Source(str(folder), partial(self._in, folder)) for folder in self.system_dirs]
        out += [
            Source(base, partial(self._from_mirror, base, cache), fetches=True, network=True)
            for base in self.mirrors
        ]
        if self.extra_source:
            out.append(
                Source(self.extra_source, partial(self._from_extra, cache), fetches=True, network=True)
            )
        return out

    # -- the work

    def _names(self) -> list[str]:
        return [name for pair in self.files.values() for name in pair]

    def _in(self, folder: Path) -> Found:
        names = self._names()
        if files := find_idx_files(folder, names, self.subdirs):
            return files, str(folder)
        raise NotThere(why_missing(folder, names, self.subdirs))

    def _in_user(self, folder: Path) -> Found:
        try:
            return self._in(folder)
        except NotThere as exc:
            if self.data_dir is not None:
                log.warning(
                    "%s: --data-dir %s does not hold the files (%s); looking elsewhere",
                    self.display_name(),
                    folder,
                    exc,
                )
            raise

    def _cached(self, folder: Path) -> Found:
        """The cache's files if all are there and match their hashes."""
        names = self._names()
        files = find_idx_files(folder, names)
        if files is None:
            raise NotThere("empty" if not folder.is_dir() else why_missing(folder, names))
        for name, path in files.items():
            expected = self.sha256.get(name)
            try:
                if expected and sha256_uncompressed(path) != expected:
                    raise NotThere(f"{path.name} fails its sha256 check")
            except (DataError, OSError) as exc:
                raise NotThere(f"{path.name} cannot be read: {exc}") from exc
        return files, str(folder)

    def _from_mirror(self, base: str, dest: Path) -> Found:
        # "trying": a mirror that does not answer is passed over for the next source without a word.
        announce(f"fetching {self.display_name()}: trying {base} for its {len(self._names())} .gz files ...")
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
        return self._fetched(dest)

    def _from_extra(self, dest: Path) -> Found:
        log.info("Fetching %s from %s", self.display_name(), self.extra_source)
        self.extra_fetch(dest)
        return self._fetched(dest)

    def _fetched(self, dest: Path) -> Found:
        try:
            return self._cached(dest)
        except NotThere as exc:
            raise NotThere(f"then the cache: {exc}") from exc

    def _read(self, split: str) -> None:
        if split not in self.files:
            raise UsageError(
                f"The dataset '{self.display_name()}' has no split '{split}'; "
                f"choose {' or '.join(self.files)}."
            )
        if self._paths is None:  # located once per instance: checking the hashes again costs time
            found: Found = locate(self.sources(), True, self._nowhere)
            self._paths = found[0]
        images_path, labels_path = (self._paths[n] for n in self.files[split])
        images, labels = read_idx(images_path), read_idx(labels_path)
        n = images.shape[0]
        if n == 0:  # nothing downstream can train on, or measure against, an empty split
            raise DataError(
                f"{images_path} holds no images (its header declares 0); "
                f"the '{split}' split of '{self.display_name()}' needs at least one."
            )
        if images.dtype != torch.uint8:
            raise DataError(f"{images_path} holds {images.dtype} values; images must be uint8 (0-255).")
        if math.prod(images.shape[1:]) != math.prod(self.shape):
            raise DataError(
                f"{images_path} holds images of {'x'.join(map(str, images.shape[1:]))} values, "
                f"but '{self.display_name()}' images are {'x'.join(map(str, self.shape))}."
            )
        if labels.dim() != 1 or labels.shape[0] != n:
            raise DataError(
                f"{labels_path} holds {labels.shape[0]} labels but {images_path} holds {n} images; "
                f"the two files do not belong together."
            )
        self._images[split] = images.reshape(n, *self.shape).to(torch.float32).div_(255.0)
        self._labels[split] = labels.to(torch.int64)

    def _nowhere(self, tried: str, skipped: bool) -> str:
        names = self._names()
        where = " or under " + and_join((f"{s}/" for s in self.subdirs), "or") if self.subdirs else ""
        hint = self.fix_hint or (
            f"put the {len(names)} files in a folder and pass it with --data-dir PATH (or set GANZOO_DATA)"
        )
        return (
            f"The dataset '{self.display_name()}' is not available. ganzoo looked for {and_join(names)} "
            f"(each raw or .gz, flat in a folder{where}) in: {tried}. "
            f"To fix it, {fix_offline(hint, skipped)}."
        )
