"""Fashion-MNIST as its four official IDX files, found locally (Debian packages them) or downloaded."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from ganzoo.data.idx_dataset import IdxDataset


class FashionMNIST(IdxDataset):
    """Zalando's 70,000 Fashion-MNIST clothing images (Xiao et al., 2017), 1x28x28.

    Looked for in ``--data-dir``/``$GANZOO_DATA`` (flat or torchvision's ``FashionMNIST/raw/``),
    the cache, then ``/usr/share/datasets/fashion-mnist/`` (where Debian's
    ``dataset-fashion-mnist`` package puts the files); fetched from torchvision's mirror.
    """

    name = "fashion-mnist"
    cache_name = "fashion-mnist"
    modality = "image"
    shape = (1, 28, 28)
    value_range = (0.0, 1.0)
    classifier = "fashion-mnist"
    #: The label names of Xiao et al. (2017), table 1, lower-cased as `--class` takes them.
    classes = (
        "t-shirt/top", "trouser", "pullover", "dress", "coat",
        "sandal", "shirt", "sneaker", "bag", "ankle boot",
    )  # fmt: skip
    splits = ("train", "test")
    files: ClassVar[dict[str, tuple[str, str]]] = {
        "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
        "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
    }
    # The uncompressed official files (Debian recompressed the .gz files, so hashes of the .gz
    # would differ between sources; the content does not).
    sha256: ClassVar[dict[str, str]] = {
        "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    }
    mirrors: ClassVar[list[str]] = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    system_dirs: ClassVar[list[Path]] = [Path("/usr/share/datasets/fashion-mnist")]
    subdirs: ClassVar[list[str]] = ["FashionMNIST/raw", "raw"]
    fix_hint = (
        "run `apt-get install dataset-fashion-mnist` (Debian and Ubuntu ship the official files), "
        "or pass --data-dir PATH naming a folder that holds the four files"
    )
