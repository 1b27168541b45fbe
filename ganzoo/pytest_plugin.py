"""Pytest fixtures for plugin authors, loaded by pytest through the ``pytest11`` entry point.

Any test suite in an environment where ganzoo is installed gets:

- ``ganzoo_register``: ``ganzoo_register(plugin)`` registers a module or object with hook
  implementations for this test only (it is removed afterwards);
- ``ganzoo_tiny_dataset``: the name of a dataset of 64 synthetic 1x28x28 images in two classes
  (falling and rising strokes) registered for this test, so a plugin's test needs no real data and
  no network;
- ``ganzoo_train``: ``ganzoo_train(arch, dataset="...", iterations=5, **options)`` trains on the
  CPU into a temporary folder and returns the run directory (``conditional=True``: a conditional run).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any, ClassVar

import pytest

from ganzoo import hookimpl
from ganzoo.testing import registered

TINY = "ganzoo-tiny"


def _tiny_dataset_class() -> type:
    import torch

    from ganzoo.components import Dataset

    class TinyImages(Dataset):
        """64 blurry diagonal strokes, 1x28x28 in [0, 1], the same every time (seed 0); two classes,
        strokes that fall (even samples) and strokes that rise (odd ones), for conditional runs."""

        name = "ganzoo-tiny"
        modality = "image"
        shape = (1, 28, 28)
        value_range = (0.0, 1.0)
        splits = ("train", "test")
        classes = ("falling", "rising")
        classifier = None
        defaults: ClassVar[dict[str, Any]] = {}

        def load(self, split: str = "train") -> torch.Tensor:
            g = torch.Generator().manual_seed(int(split == "test"))
            coords = torch.arange(28, dtype=torch.float32)
            offsets = torch.randint(-8, 9, (64, 1, 1), generator=g).float()
            dist = (coords.view(1, 28, 1) - coords.view(1, 1, 28) - offsets).abs()
            images = torch.exp(-(dist**2) / 8).unsqueeze(1)
            images[1::2] = images[1::2].flip(-1)  # the odd ones rise
            return images

        def labels(self, split: str = "train") -> torch.Tensor:
            return torch.arange(64) % 2

    return TinyImages


class _TinyPlugin:
    @hookimpl
    def register_datasets(self, register: Callable[..., None]) -> None:
        register(TINY, _tiny_dataset_class(), "64 synthetic 1x28x28 images for plugin tests.")


@pytest.fixture
def ganzoo_register() -> Iterator[Callable[..., Any]]:
    """``ganzoo_register(plugin, name=..., dist=...)``: registered until the test ends."""
    with ExitStack() as stack:

        def register(
            plugin: Any, name: str = "test-plugin", dist: str = "test-dist", version: str = "0.0"
        ) -> Any:
            return stack.enter_context(registered(plugin, name, dist, version))

        yield register


@pytest.fixture
def ganzoo_tiny_dataset(ganzoo_register: Callable[..., Any]) -> str:
    """The name of a small synthetic image dataset registered for this test."""
    ganzoo_register(_TinyPlugin(), name="ganzoo-tiny", dist="ganzoo-testing")
    return TINY


@pytest.fixture
def ganzoo_train(tmp_path: Path, ganzoo_tiny_dataset: str) -> Callable[..., Path]:
    """``ganzoo_train(arch, dataset=tiny, iterations=5, **options) -> run directory`` on the CPU."""
    runs = iter(range(1_000_000))

    def train(arch: str, dataset: str = ganzoo_tiny_dataset, iterations: int = 5, **options: Any) -> Path:
        from ganzoo import api
        from ganzoo.progress import PlainProgress

        out = tmp_path / f"ganzoo-run-{next(runs)}"
        settings = {"seed": 0, "device": "cpu", "batch_size": 16, **options}
        api.train(
            arch, dataset, out=out, iterations=iterations, progress=PlainProgress(quiet=True), **settings
        )
        return out

    return train
