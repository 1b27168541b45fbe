"""Small CNN classifiers for MNIST and Fashion-MNIST, shipped inside ganzoo as feature extractors.

``ganzoo eval`` measures generated images in the feature space of a network trained on the real
data (Fréchet distance, KID, classifier score, precision/recall), as TF-GAN does for MNIST with its
own classifier. Inception features are a poor fit for 28x28 grey digits and clothes, and
downloading them at evaluation time would break offline use; so ganzoo ships one small classifier
per dataset, trained by ``scripts/train_classifier.py`` from a seed, and checks each file against
the sha256 recorded here before trusting it, because a metric computed with silently different
weights would not be comparable with any earlier number.

The weights are stored with safetensors (never pickle): loading them runs no code.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ganzoo.errors import MetricsError
from ganzoo.files import sha256_file

#: The size of the feature vector :meth:`Classifier.features` returns (the penultimate layer).
FEATURE_DIM = 128

_ASSETS = Path(__file__).resolve().parent / "assets"


@dataclass(frozen=True)
class ClassifierInfo:
    """One shipped classifier: which data it was trained on, its file, and what it was measured to do."""

    dataset: str
    #: The file's name inside ``ganzoo/assets/``.
    file: str
    #: The sha256 of that file, checked on every load so that metrics are never computed silently
    #: with other weights than those the published numbers came from.
    sha256: str
    #: The accuracy on the dataset's official 10,000-image test split, measured after training.
    test_accuracy: float
    #: The human names of the 10 classes, in label order.
    classes: tuple[str, ...]


CLASSIFIERS: dict[str, ClassifierInfo] = {
    "mnist": ClassifierInfo(
        dataset="mnist",
        file="classifier-mnist.safetensors",
        sha256="e96367602622ed121bc0ad1b703306eba85b3ac3289737a0d8155fca52fbe966",
        test_accuracy=0.9955,
        classes=("0", "1", "2", "3", "4", "5", "6", "7", "8", "9"),
    ),
    "fashion-mnist": ClassifierInfo(
        dataset="fashion-mnist",
        file="classifier-fashion-mnist.safetensors",
        sha256="52c12a7d089105bf9c11cca484923ed33080e16b2b4331a94a9335cccf1434a8",
        test_accuracy=0.929,
        classes=(
            "T-shirt/top",
            "Trouser",
            "Pullover",
            "Dress",
            "Coat",
            "Sandal",
            "Shirt",
            "Sneaker",
            "Bag",
            "Ankle boot",
        ),
    ),
}


def _conv_block(c_in: int, c_out: int) -> list[nn.Module]:
    """A 3x3 convolution without padding; no bias since the BatchNorm after it has one."""
    return [nn.Conv2d(c_in, c_out, 3, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]


class Classifier(nn.Module):
    """A 4-convolution CNN for 1x28x28 images in [0, 1]: 10 logits, and 128 features before them.

    The input is normalised inside the module (``mean``/``std`` are buffers saved with the
    weights), so callers pass ganzoo's dataset value range as it is and cannot get it wrong.
    The first layer is 16 channels wide rather than 32: it costs a third less on a CPU, which
    matters because evaluation runs it on 10,000 samples, and loses nothing measurable on
    28x28 grey images.
    """

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, mean: float = 0.5, std: float = 0.5, dropout: float = 0.3) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(float(mean)))
        self.register_buffer("std", torch.tensor(float(std)))
        self.body = nn.Sequential(
            *_conv_block(1, 16),  # 26x26
            *_conv_block(16, 32),  # 24x24
            nn.MaxPool2d(2),  # 12x12
            *_conv_block(32, 64),  # 10x10
            *_conv_block(64, 64),  # 8x8
            nn.MaxPool2d(2),  # 4x4
            nn.Flatten(),
        )
        self.embed = nn.Sequential(nn.Linear(64 * 4 * 4, FEATURE_DIM), nn.ReLU(inplace=True))
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(FEATURE_DIM, 10)

    def features_and_logits(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Features (N, FEATURE_DIM) float32 and logits (N, 10) in one pass, for metrics needing both."""
        if x.dim() != 4 or tuple(x.shape[1:]) != (1, 28, 28):
            raise MetricsError(f"The classifier takes images of shape (N, 1, 28, 28), not {tuple(x.shape)}.")
        x = (x.float() - self.mean) / self.std
        # Channels-last convolutions run about twice as fast on CPU at inference (measured with
        # 2 threads); training is faster in the default layout, so only inference converts.
        h = self.body(x if self.training else x.contiguous(memory_format=torch.channels_last))
        features = self.embed(h)
        logits = self.head(self.dropout(features))
        return features.float(), logits

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The 10 class logits of images (N, 1, 28, 28) in [0, 1]."""
        return self.features_and_logits(x)[1]

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The penultimate activations (N, FEATURE_DIM), float32: the space metrics are computed in."""
        return self.features_and_logits(x)[0]


def asset_path(info: ClassifierInfo) -> Path:
    """Where the installed package keeps this classifier's weights (``ganzoo/assets/<file>``)."""
    return _ASSETS / info.file


def load_classifier(dataset: str, device: str | torch.device = "cpu", path: Path | None = None) -> Classifier:
    """The shipped classifier for ``dataset`` in eval mode, frozen, its file checked against its sha256.

    ``path`` reads the weights from elsewhere; the recorded sha256 still applies, so only a
    byte-identical copy is accepted. Raises :class:`MetricsError` when there is no classifier for
    the dataset, or its file is missing, corrupt or modified.
    """
    info = CLASSIFIERS.get(dataset)
    if info is None:
        known = " and ".join(sorted(CLASSIFIERS))
        raise MetricsError(
            f"ganzoo has no feature classifier for dataset {dataset!r}, "
            f"so classifier-based metrics exist only for {known}."
        )
    file = Path(path) if path is not None else asset_path(info)
    if not file.is_file():
        raise MetricsError(
            f"The {dataset} classifier weights {file} are missing; reinstall ganzoo to restore them."
        )
    actual = sha256_file(file)
    if actual != info.sha256:
        raise MetricsError(
            f"The {dataset} classifier weights {file} are corrupt or modified (sha256 {actual}, "
            f"expected {info.sha256}); reinstall ganzoo to restore them."
        )
    # Imported here: safetensors is only needed when a classifier is actually loaded.
    from safetensors.torch import load_file

    model = Classifier()
    try:
        model.load_state_dict(load_file(str(file), device="cpu"), strict=True)
    except (OSError, RuntimeError, ValueError) as exc:  # matching sha256 but unreadable: a bad release
        raise MetricsError(f"The {dataset} classifier weights {file} cannot be loaded: {exc}.") from exc
    model.eval().requires_grad_(False)
    return model.to(torch.device(device)).to(memory_format=torch.channels_last)
