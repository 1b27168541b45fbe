"""Every built-in dataset declares its classes (names in label order) and loads labels with its
images; sine has none and says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from ganzoo.errors import UsageError
from ganzoo.plugins.cifar10 import CIFAR10
from ganzoo.plugins.fashion_mnist import FashionMNIST
from ganzoo.plugins.mnist import MNIST
from ganzoo.plugins.sine import Sine
from ganzoo.plugins.svhn import SVHN

FIXTURES = Path(__file__).parents[1] / "fixtures"


@pytest.mark.parametrize(
    ("cls", "first", "last"),
    [
        (MNIST, "0", "9"),
        (SVHN, "0", "9"),
        (FashionMNIST, "t-shirt/top", "ankle boot"),
        (CIFAR10, "airplane", "truck"),
    ],
)
def test_each_dataset_names_its_ten_classes_in_label_order(cls: type, first: str, last: str) -> None:
    names = cls().class_names()
    assert len(names) == 10 and len(set(names)) == 10
    assert (names[0], names[-1]) == (first, last)
    assert cls().spec().classes == names  # recorded in config.json with the run


@pytest.mark.parametrize(("cls", "folder"), [(MNIST, "mnist"), (FashionMNIST, "fashion-mnist")])
def test_labels_come_with_the_images_in_their_order(cls: type, folder: str) -> None:
    ds = cls(FIXTURES / folder)
    for split in ("train", "test"):
        x, y = ds.load(split), ds.labels(split)
        assert len(y) == len(x) and int(y.min()) >= 0 and int(y.max()) < len(ds.class_names())
        assert len(set(y.tolist())) == 10  # the fixtures hold every class


def test_sine_has_no_classes_and_says_so() -> None:
    ds = Sine()
    assert ds.class_names() == () and ds.spec().classes == ()
    with pytest.raises(UsageError, match="The dataset 'sine' has no classes"):
        ds.labels()
