"""The shipped feature classifiers: they load, they are checked, they classify real images."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import torch

from ganzoo.classifier import (
    CLASSIFIERS,
    FEATURE_DIM,
    Classifier,
    asset_path,
    load_classifier,
)
from ganzoo.data.idx_dataset import IdxDataset
from ganzoo.errors import MetricsError
from ganzoo.files import sha256_file
from ganzoo.plugins.fashion_mnist import FashionMNIST
from ganzoo.plugins.mnist import MNIST

FIXTURES = Path(__file__).resolve().parent / "fixtures"
DATASETS: dict[str, type[IdxDataset]] = {"mnist": MNIST, "fashion-mnist": FashionMNIST}
#: What the classifiers must get right of the 64 real test images in tests/fixtures: far above the
#: 10% of a broken or mismatched classifier. Fashion-MNIST's bar is lower because a small CNN gets
#: about 93% of its test split (these 64 happen to be harder: 58 right), so 95% of 64 would demand
#: luck, not a working classifier.
FIXTURE_ACCURACY = {"mnist": 0.95, "fashion-mnist": 0.85}


@pytest.fixture(params=sorted(CLASSIFIERS))
def dataset(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def real_test_images(dataset: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The 64 real test images and labels committed in tests/fixtures (the first 64 of the test split)."""
    data = DATASETS[dataset](data_dir=FIXTURES / dataset)
    images, labels = data.load("test"), data.labels("test")
    assert images.shape == (64, 1, 28, 28)
    return images, labels


def test_registry_covers_both_datasets() -> None:
    assert set(CLASSIFIERS) == {"mnist", "fashion-mnist"}
    for name, info in CLASSIFIERS.items():
        assert info.dataset == name
        assert len(info.classes) == 10
        assert re.fullmatch(r"[0-9a-f]{64}", info.sha256)
    assert "cifar10" not in CLASSIFIERS


def test_shipped_files_exist_and_match_their_hash(dataset: str) -> None:
    info = CLASSIFIERS[dataset]
    path = asset_path(info)
    assert path.is_file(), f"{path} is not installed"
    assert path.parent.name == "assets"
    assert sha256_file(path) == info.sha256
    assert path.stat().st_size < 2_000_000


def test_loaded_classifier_is_frozen_and_in_eval_mode(dataset: str) -> None:
    model = load_classifier(dataset)
    assert isinstance(model, Classifier)
    assert not model.training
    assert all(not p.requires_grad for p in model.parameters())


def test_output_shapes(dataset: str) -> None:
    model = load_classifier(dataset)
    x = torch.rand(5, 1, 28, 28)
    logits = model(x)
    features = model.features(x)
    both = model.features_and_logits(x)
    assert logits.shape == (5, 10)
    assert features.shape == (5, FEATURE_DIM)
    assert features.dtype == torch.float32
    torch.testing.assert_close(both[0], features)
    torch.testing.assert_close(both[1], logits)


def test_wrong_image_shape_is_refused() -> None:
    model = load_classifier("mnist")
    with pytest.raises(MetricsError, match=r"\(N, 1, 28, 28\)"):
        model(torch.rand(2, 3, 32, 32))


def test_classifies_real_test_images(dataset: str) -> None:
    images, labels = real_test_images(dataset)
    model = load_classifier(dataset)
    with torch.inference_mode():
        accuracy = (model(images).argmax(1) == labels).float().mean().item()
    assert accuracy >= FIXTURE_ACCURACY[dataset]
    assert CLASSIFIERS[dataset].test_accuracy >= {"mnist": 0.99, "fashion-mnist": 0.90}[dataset]


def test_unknown_dataset_is_a_metrics_error() -> None:
    with pytest.raises(MetricsError, match="no feature classifier for dataset 'svhn'") as info:
        load_classifier("svhn")
    assert "mnist" in str(info.value)


def test_corrupted_copy_is_refused(dataset: str, tmp_path: Path) -> None:
    copy = tmp_path / "weights.safetensors"
    shutil.copyfile(asset_path(CLASSIFIERS[dataset]), copy)
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0x01  # one flipped bit in the middle of the weights
    copy.write_bytes(bytes(data))
    with pytest.raises(MetricsError, match=r"corrupt or modified.*reinstall ganzoo") as info:
        load_classifier(dataset, path=copy)
    assert str(copy) in str(info.value)
    assert "\n" not in str(info.value)


def test_intact_copy_elsewhere_loads(dataset: str, tmp_path: Path) -> None:
    copy = tmp_path / "weights.safetensors"
    shutil.copyfile(asset_path(CLASSIFIERS[dataset]), copy)
    x = torch.rand(3, 1, 28, 28)
    torch.testing.assert_close(load_classifier(dataset, path=copy)(x), load_classifier(dataset)(x))


def test_missing_file_is_a_metrics_error(tmp_path: Path) -> None:
    with pytest.raises(MetricsError, match="missing; reinstall ganzoo"):
        load_classifier("mnist", path=tmp_path / "nowhere.safetensors")


def test_file_metadata_agrees_with_the_registry(dataset: str) -> None:
    from safetensors import safe_open

    info = CLASSIFIERS[dataset]
    with safe_open(str(asset_path(info)), framework="pt") as f:
        metadata = f.metadata()
    assert metadata["dataset"] == dataset
    assert float(metadata["test_accuracy"]) == pytest.approx(info.test_accuracy, abs=1e-4)
    assert metadata["script"] == "scripts/train_classifier.py"
