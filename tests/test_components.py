"""The component bases: plugins written before ganzoo 0.2, with `kind` and `kinds`, keep working."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
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


def test_hyperparameters_come_from_the_constructor_once() -> None:
    """A network that leaves ``defaults`` out gets them from its __init__'s keyword parameters; one
    that writes both must agree, or defining the class fails naming each disagreement."""
    from torch import nn

    from ganzoo.components import Discriminator, Generator, Loss

    class Wide(Generator):
        def __init__(self, data: Any, latent_dim: int, hidden: int = 64, slope: float = 0.2) -> None:
            super().__init__(data, latent_dim)
            self.net = nn.Linear(latent_dim, hidden)

    assert Wide.defaults == {"hidden": 64, "slope": 0.2}

    class Margin(Loss):
        def __init__(self, margin: float = 1.0) -> None:
            super().__init__(margin=margin)

    assert Margin.defaults == {"margin": 1.0} and Margin().params == {"margin": 1.0}

    class Agreeing(Discriminator):
        defaults: ClassVar[dict[str, Any]] = {"width": 32}

        def __init__(self, data: Any, width: int = 32) -> None:
            super().__init__(data)

    assert Agreeing.defaults == {"width": 32}
    with pytest.raises(TypeError) as err:

        class Disagreeing(Discriminator):
            defaults: ClassVar[dict[str, Any]] = {"width": 64, "depth": 2}

            def __init__(self, data: Any, width: int = 32, dropout: float = 0.1) -> None:
                super().__init__(data)

    why = str(err.value)
    assert "declares its hyperparameters twice, and they disagree" in why
    assert "width=64 in defaults but 32 in __init__" in why
    assert "depth in defaults but not a parameter of __init__" in why
    assert "dropout a parameter of __init__ but not in defaults" in why

    class Open(Generator):  # takes **params: may declare names its signature does not list
        defaults: ClassVar[dict[str, Any]] = {"hidden": 8}

        def __init__(self, data: Any, latent_dim: int, **params: Any) -> None:
            super().__init__(data, latent_dim)

    assert Open.defaults == {"hidden": 8}
