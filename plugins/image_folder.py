"""Any folder of PNG/JPEG pictures as a dataset: each resized (short side) and center-cropped to a square."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, ClassVar

import torch

from ganzoo.components import Dataset, DataStatus
from ganzoo.errors import DataError, UsageError

log = logging.getLogger(__name__)

SUFFIXES = (".png", ".jpg", ".jpeg")
NAME = "image-folder"


def _image_files(folder: Path) -> Iterator[Path]:
    for root, dirs, names in os.walk(folder, followlinks=True):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in names:
            if name.lower().endswith(SUFFIXES) and not name.startswith("."):
                yield Path(root) / name


def decode(path: Path, size: int, mode: str) -> torch.Tensor:
    """One image as uint8 (size, size, channels): short side resized to ``size``, center-cropped.

    Raises whatever Pillow raises on a file it cannot read.
    """
    from PIL import Image, ImageOps

    with Image.open(path) as file:
        file.draft(mode, (size, size))  # JPEG: decode at a reduced scale no smaller than needed
        img = ImageOps.exif_transpose(file).convert(mode)  # upright, as a photo viewer shows it
        w, h = img.size
        side = min(w, h)
        box = ((w - side) / 2, (h - side) / 2, (w + side) / 2, (h + side) / 2)
        img = img.resize((size, size), Image.Resampling.BICUBIC, box=box)
        pixels = torch.frombuffer(bytearray(img.tobytes()), dtype=torch.uint8)
    return pixels.view(size, size, len(mode))


def _unreadable(exc: BaseException) -> bool:
    from PIL import Image

    return isinstance(exc, (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError))


class ImageFiles(torch.utils.data.Dataset[torch.Tensor]):
    """A folder too large for memory: each item is decoded when it is asked for.

    Items are float32 (channels, size, size) in [0, 1]. A file that cannot be decoded is
    replaced by the next one that can (with a warning), so one bad file does not end a run.
    """

    def __init__(self, paths: list[Path], size: int, channels: int) -> None:
        self.paths, self.size, self.mode = paths, size, "L" if channels == 1 else "RGB"
        self._warned: set[Path] = set()

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> torch.Tensor:
        n = len(self.paths)
        for k in range(n):
            path = self.paths[(index + k) % n]
            try:
                pixels = decode(path, self.size, self.mode)
            except Exception as exc:
                if not _unreadable(exc):
                    raise
                if path not in self._warned:
                    self._warned.add(path)
                    log.warning("%s: skipping %s, which cannot be read as an image: %s", NAME, path, exc)
                continue
            return pixels.permute(2, 0, 1).to(torch.float32).div_(255.0)
        raise DataError(f"None of the {n} image files of {NAME} can be read as images any more.")


class ImageFolder(Dataset):
    """Every PNG/JPEG under ``--data-dir`` (recursively, in sorted order), as square images in [0, 1].

    Each image is converted to RGB (``channels=3``) or greyscale (``channels=1``), resized so its
    short side is ``image_size`` and center-cropped. When all of them fit in ``max_memory_mb`` as
    float32, :meth:`load` decodes them at once into one tensor; otherwise it returns a
    map-style torch Dataset that decodes each image when it is asked for.

    Laid out as torchvision's ImageFolder is (every image inside a subfolder of ``--data-dir``,
    none beside them), each subfolder is a class, named as the folder and counted in sorted order.
    """

    name = NAME
    modality = "image"
    shape = (3, 64, 64)
    value_range = (0.0, 1.0)
    splits = ("train",)
    defaults: ClassVar[dict[str, Any]] = {"image_size": 64, "channels": 3, "max_memory_mb": 1024.0}

    def __init__(self, data_dir: Path | None = None, **params: Any) -> None:
        super().__init__(data_dir, **params)
        params = self.params
        size, channels, memory = params["image_size"], params["channels"], params["max_memory_mb"]
        if not _is_int(size) or size < 8:
            raise UsageError(
                f"The dataset '{NAME}' needs image_size to be a whole number of at least 8, not {size!r}."
            )
        if not _is_int(channels) or channels not in (1, 3):
            raise UsageError(
                f"The dataset '{NAME}' needs channels to be 1 (greyscale) or 3 (RGB), not {channels!r}."
            )
        if isinstance(memory, bool) or not isinstance(memory, (int, float)) or memory <= 0:
            raise UsageError(
                f"The dataset '{NAME}' needs max_memory_mb to be a positive number, not {memory!r}."
            )
        self.image_size, self.channels, self.max_memory_mb = int(size), int(channels), float(memory)
        self.shape = (self.channels, self.image_size, self.image_size)  # type: ignore[misc]
        self._data: torch.Tensor | ImageFiles | None = None
        self._found: tuple[Path, list[Path]] | None = None
        self._labels: torch.Tensor | None = None

    def class_names(self) -> tuple[str, ...]:
        """The subfolders that hold the images, when every image lies in one; else ()."""
        folder, paths = self._paths()
        return _classes(folder, paths)[0]

    def labels(self, split: str = "train") -> torch.Tensor:
        """Each image's class: the index of its subfolder in :meth:`class_names`."""
        if not self.class_names():
            super().labels(split)  # one sentence: no classes
        self.load(split)
        assert self._labels is not None
        return self._labels

    def load(self, split: str = "train") -> torch.Tensor | ImageFiles:
        """All images as float32 (N, C, S, S) in [0, 1], or a map-style Dataset when too large."""
        if split != "train":
            raise UsageError(f"The dataset '{NAME}' has no split '{split}'; it has only train.")
        if self._data is None:
            self._data = self._load()
        return self._data

    def fetch(self) -> str:
        return str(self._paths()[0])

    def status(self) -> DataStatus:
        if self.data_dir is None:
            return DataStatus(False, "needs --data-dir PATH (a folder of PNG or JPEG images)")
        folder = Path(self.data_dir).expanduser()
        return DataStatus(folder.is_dir() and next(_image_files(folder), None) is not None, str(folder))

    # -- the work

    def _paths(self) -> tuple[Path, list[Path]]:
        if self._found is None:
            self._found = self._find()
        return self._found

    def _find(self) -> tuple[Path, list[Path]]:
        if self.data_dir is None:
            raise UsageError(f"{NAME} needs --data-dir PATH naming a folder of PNG or JPEG images.")
        folder = Path(self.data_dir).expanduser()
        if not folder.is_dir():
            raise DataError(
                f"The dataset '{NAME}' reads images from --data-dir, but {folder} is not a folder; "
                f"pass --data-dir PATH naming a folder of PNG or JPEG images."
            )
        paths = sorted(_image_files(folder), key=lambda p: p.relative_to(folder).as_posix())
        if not paths:
            raise DataError(
                f"The dataset '{NAME}' found no PNG or JPEG files (.png, .jpg, .jpeg) in {folder} or "
                f"its subfolders; put the images there or pass --data-dir PATH naming another folder."
            )
        return folder, paths

    def _load(self) -> torch.Tensor | ImageFiles:
        folder, paths = self._paths()
        labels = _classes(folder, paths)[1]
        s, c = self.image_size, self.channels
        if len(paths) * c * s * s * 4 > self.max_memory_mb * 2**20:
            log.info("%s: streaming %d images from %s (more than max_memory_mb)", NAME, len(paths), folder)
            self._labels = labels
            return ImageFiles(paths, s, c)
        mode = "L" if c == 1 else "RGB"
        out = torch.empty((len(paths), s, s, c), dtype=torch.uint8)
        failures: list[tuple[Path, BaseException]] = []

        def one(i: int) -> bool:
            try:
                out[i] = decode(paths[i], s, mode)
                return True
            except Exception as exc:
                if not _unreadable(exc):
                    raise
                failures.append((paths[i], exc))
                return False

        # Pillow releases the GIL while it decodes and resizes: threads decode in parallel.
        with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
            ok = torch.tensor(list(pool.map(one, range(len(paths)))), dtype=torch.bool)
        if failures:
            failures.sort(key=lambda f: str(f[0]))
            first, exc = failures[0]
            if len(failures) == len(paths):
                raise DataError(
                    f"The dataset '{NAME}' could read none of the {len(paths)} PNG/JPEG files in {folder} "
                    f"as images (the first, {first}: {exc}); check that they are valid images."
                )
            log.warning(
                "%s: skipped %d of %d files in %s that cannot be read as images (the first, %s: %s)",
                NAME,
                len(failures),
                len(paths),
                folder,
                first,
                exc,
            )
            out, labels = out[ok], labels[ok]
        self._labels = labels
        # (N, S, S, C) → (N, C, S, S) in one copy, then to [0, 1].
        return out.permute(0, 3, 1, 2).to(torch.float32, memory_format=torch.contiguous_format).div_(255.0)


def _classes(folder: Path, paths: list[Path]) -> tuple[tuple[str, ...], torch.Tensor]:
    """The class names and each path's label, when every image lies in a subfolder of ``folder``
    and there are two subfolders or more (torchvision's ImageFolder layout; one class is none);
    else no names and every label 0."""
    tops = [p.relative_to(folder).parts for p in paths]
    names = tuple(sorted({parts[0] for parts in tops if len(parts) > 1}))
    if len(names) < 2 or any(len(parts) < 2 for parts in tops):
        return (), torch.zeros(len(paths), dtype=torch.int64)
    index = {name: i for i, name in enumerate(names)}
    return names, torch.tensor([index[parts[0]] for parts in tops], dtype=torch.int64)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
