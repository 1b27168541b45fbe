"""What one real sample looks like, as config.json records it: classes included, older records read."""

from __future__ import annotations

import pytest

from ganzoo.dataspec import DataSpec


def test_classes_are_recorded_and_read_back() -> None:
    spec = DataSpec((1, 28, 28), "image", (0.0, 1.0), ("0", "1"))
    assert spec.to_json()["classes"] == ["0", "1"]
    assert DataSpec.from_json(spec.to_json()) == spec


def test_data_without_classes_reads_as_before_classes_existed() -> None:
    doc = {"shape": [50], "modality": "sequence", "value_range": [-1.0, 1.0]}
    spec = DataSpec.from_json(doc)
    assert spec.classes == () and spec.to_json() == doc


def test_classes_that_are_not_names_are_refused() -> None:
    with pytest.raises(ValueError, match=r"data\.classes must be a list of names"):
        DataSpec.from_json({"shape": [1, 2, 2], "modality": "image", "value_range": [0, 1], "classes": [3]})
