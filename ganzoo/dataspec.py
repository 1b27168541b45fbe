"""What one real sample looks like, as the data, the networks and the run record all see it.

Kept apart from :mod:`ganzoo.components` (which imports torch) so that reading a run's record
(``ganzoo show``) stays light.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

#: The modalities of data ganzoo knows: pictures (C, H, W) and 1-D sequences (L,).
MODALITIES = ("image", "sequence")


@dataclass(frozen=True)
class DataSpec:
    """One real sample: its shape (C, H, W) or (L,), its modality, its value range and the names of
    the classes its labels count (in label order; empty when the data has no classes)."""

    shape: tuple[int, ...]
    modality: str  # "image" | "sequence"
    value_range: tuple[float, float] = (0.0, 1.0)
    classes: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        """The modality under its name before ganzoo 0.2 (plugins written then read ``data.kind``)."""
        return self.modality

    @property
    def size(self) -> int:
        """Values per sample."""
        return math.prod(self.shape)

    def to_json(self) -> dict[str, Any]:
        doc = {"shape": list(self.shape), "modality": self.modality, "value_range": list(self.value_range)}
        if self.classes:  # data without classes reads as it did before classes existed
            doc["classes"] = list(self.classes)
        return doc

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> DataSpec:
        low, high = d["value_range"]
        classes = d.get("classes", [])
        if not isinstance(classes, list) or not all(isinstance(c, str) for c in classes):
            raise ValueError(f"data.classes must be a list of names, got {classes!r:.60}")
        # Run records written before ganzoo 0.2 call the modality "kind".
        modality = str(d.get("modality", d.get("kind")))
        return cls(tuple(d["shape"]), modality, (float(low), float(high)), tuple(classes))


@dataclass(frozen=True)
class DataStatus:
    """Where a dataset's files are (or would be), for ``ganzoo data list``."""

    present: bool
    where: str
