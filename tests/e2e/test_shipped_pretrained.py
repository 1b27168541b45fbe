"""Every generator ganzoo ships keeps its promise: loaded by name it samples, and its figure measured
again on a subset of the real test split (fetched as a user's machine would) lands within the
tolerance measured over sampling seeds when it shipped; a conditional one names the classes it is
asked for as often as it did."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ganzoo import api

pytestmark = pytest.mark.slow

SHIPPED = sorted(p.parent.name for p in (Path(api.__file__).parent / "pretrained").glob("*/manifest.json"))


@pytest.fixture(autouse=True)
def online(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Real test splits: MNIST from the package index (cached once for the session's tests),
    Fashion-MNIST from Debian's dataset-fashion-mnist; the sine curves are generated."""
    from ganzoo import manager

    monkeypatch.setenv("GANZOO_OFFLINE", "0")
    cache = Path(os.environ.get("GANZOO_TEST_DATA_CACHE", tmp_path_factory.getbasetemp() / "real-data"))
    monkeypatch.setenv("GANZOO_CACHE", str(cache))
    manager._MANAGER = None


@pytest.mark.parametrize("name", SHIPPED)
def test_a_shipped_generator_samples_and_measures_as_it_did(name: str) -> None:
    manifest = json.loads((Path(api.__file__).parent / "pretrained" / name / "manifest.json").read_text())
    check = manifest["check"]
    info = api.show(name)
    if info.dataset == "fashion-mnist":
        from ganzoo.plugins.fashion_mnist import FashionMNIST

        if not FashionMNIST().status().present:
            pytest.skip("Fashion-MNIST is not on this machine (apt-get install dataset-fashion-mnist)")
    g = api.load_generator(name)
    assert g.sample(8, seed=0).shape[0] == 8
    result = api.evaluate(name, n=check["n"], seed=check["seeds"][0]).metrics
    figure = result[check["figure"]]
    assert abs(figure - check["mean"]) <= check["tolerance"], (
        name,
        figure,
        check["mean"],
        check["tolerance"],
    )
    if "cond_accuracy" in check:
        assert result["cond_accuracy"] >= check["cond_accuracy"]["min"] - 0.01, (
            name,
            result["cond_accuracy"],
        )
