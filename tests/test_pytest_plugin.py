"""The fixtures ganzoo gives plugin authors' test suites (ganzoo.pytest_plugin, via pytest11)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import torch

from ganzoo import hookimpl
from ganzoo.components import Dataset
from ganzoo.manager import get_manager


class Stripes(Dataset):
    """32 horizontal stripes, 1x28x28: a third party's dataset."""

    shape = (1, 28, 28)
    defaults: ClassVar[dict[str, Any]] = {}

    def load(self, split: str = "train") -> torch.Tensor:
        x = torch.zeros(32, 1, 28, 28)
        for i in range(32):
            x[i, 0, i % 28] = 1.0
        return x


class StripesPlugin:
    @hookimpl
    def register_datasets(self, register: Callable[..., None]) -> None:
        register("stripes", Stripes)


def test_register_lasts_for_one_test_only(ganzoo_register: Callable[..., Any]) -> None:
    ganzoo_register(StripesPlugin(), name="stripes", dist="ganzoo-stripes")
    entry = get_manager().registry.get("dataset", "stripes")
    assert entry.plugin.dist == "ganzoo-stripes"


def test_the_registration_is_gone_in_the_next_test() -> None:
    assert "stripes" not in get_manager().registry.names("dataset")


def test_train_on_a_registered_dataset_returns_the_run(
    ganzoo_register: Callable[..., Any], ganzoo_train: Callable[..., Path]
) -> None:
    ganzoo_register(StripesPlugin(), name="stripes", dist="ganzoo-stripes")
    run = ganzoo_train("vanilla-mlp", "stripes", iterations=3)
    config = json.loads((run / "config.json").read_text())
    assert config["result"]["steps"] == 3 and config["components"]["dataset"] == "ganzoo-stripes:stripes"


def test_the_tiny_dataset_is_images_in_range(
    ganzoo_tiny_dataset: str, ganzoo_train: Callable[..., Path]
) -> None:
    ds = get_manager().registry.get("dataset", ganzoo_tiny_dataset).load()()
    x = ds.load("train")
    assert x.shape == (64, 1, 28, 28) and float(x.min()) >= 0 and float(x.max()) <= 1
    assert torch.equal(x, ds.load("train"))  # the same every time
    run = ganzoo_train("dcgan", iterations=2)
    assert (run / "generator.safetensors").is_file()


def test_the_tiny_dataset_has_two_classes_for_a_conditional_plugin(ganzoo_train: Callable[..., Path]) -> None:
    run = ganzoo_train("vanilla-mlp", conditional=True, iterations=3)
    config = json.loads((run / "config.json").read_text())
    assert config["data"]["classes"] == ["falling", "rising"] and config["run"]["train"]["conditional"]
