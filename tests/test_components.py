"""The component bases: plugins written before ganzoo 0.2, with `kind` and `kinds`, keep working."""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from ganzoo.components import Dataset, DataSpec, Generator


class OldStyleDataset(Dataset):
    kind = "sequence"
    shape = (8,)

    def load(self, split: str = "train") -> torch.Tensor:
        return torch.zeros(4, 8)


class OldStyleGenerator(Generator):
    kinds = ("sequence",)
    defaults: ClassVar[dict[str, Any]] = {}

    def __init__(self, data: DataSpec, latent_dim: int) -> None:
        super().__init__(data, latent_dim)
        self.net = nn.Linear(latent_dim, data.size)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


def test_the_old_names_of_the_modality_are_still_read() -> None:
    ds = OldStyleDataset()
    assert ds.modality == "sequence" and ds.kind == "sequence"
    spec = ds.spec()
    assert spec.modality == "sequence" and spec.kind == "sequence"
    assert OldStyleGenerator.modalities == ("sequence",)


def test_a_run_record_of_an_older_ganzoo_reads_its_data_kind() -> None:
    old = {"shape": [1, 28, 28], "kind": "image", "value_range": [0.0, 1.0]}
    assert DataSpec.from_json(old) == DataSpec((1, 28, 28), "image", (0.0, 1.0))
    assert DataSpec.from_json(DataSpec((50,), "sequence", (-1.0, 1.0)).to_json()).modality == "sequence"


def test_a_dataset_is_named_by_what_it_declares() -> None:
    assert OldStyleDataset.display_name() == "OldStyleDataset"
    from ganzoo.plugins.mnist import MNIST

    assert MNIST.display_name() == "mnist"
