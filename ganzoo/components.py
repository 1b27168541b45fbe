"""The four abstract kinds of component: what each must declare and provide.

Shapes flow from the dataset: a Generator or Discriminator is built for the dataset's
:class:`DataSpec`, and says with :meth:`check` which specs it cannot serve.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import torch
import torch.utils.data
from torch import nn

from ganzoo.errors import IncompatibleError, UsageError

#: The value range each output activation produces.
OUTPUT_RANGES: dict[str, tuple[float, float]] = {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0)}


@dataclass(frozen=True)
class DataSpec:
    """What one real sample looks like: shape (C, H, W) or (L,), kind and value range."""

    shape: tuple[int, ...]
    kind: str  # "image" | "sequence"
    value_range: tuple[float, float] = (0.0, 1.0)

    def to_json(self) -> dict[str, Any]:
        return {"shape": list(self.shape), "kind": self.kind, "value_range": list(self.value_range)}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> DataSpec:
        low, high = d["value_range"]
        return cls(tuple(d["shape"]), d["kind"], (float(low), float(high)))

    @property
    def size(self) -> int:
        n = 1
        for s in self.shape:
            n *= s
        return n


@dataclass(frozen=True)
class DataStatus:
    """Where a dataset's files are (or would be), for ``ganzoo data list``."""

    present: bool
    where: str


class _Network(nn.Module):
    """What Generators and Discriminators share: declared kinds, defaults and a shape check."""

    #: The data kinds this network accepts.
    kinds: ClassVar[tuple[str, ...]] = ("image",)
    #: Architecture hyperparameters (reachable with ``--set generator.NAME=VALUE``).
    defaults: ClassVar[dict[str, Any]] = {}
    #: Training defaults for this network's side: optimizer, lr, betas, momentum, nesterov (and for
    #: the generator also latent_dim, prior, batch_size, loss).
    train_defaults: ClassVar[dict[str, Any]] = {}

    @classmethod
    def check(cls, data: DataSpec) -> None:
        """Raise :class:`IncompatibleError` with a sentence if this network cannot serve ``data``."""
        if data.kind not in cls.kinds:
            raise IncompatibleError(
                f"The {cls.role()} '{getattr(cls, 'registered_name', cls.__name__)}' works on "
                f"{' or '.join(cls.kinds)} data, but the dataset holds {data.kind} data "
                f"of shape {'x'.join(map(str, data.shape))}."
            )

    @classmethod
    def role(cls) -> str:
        return "generator" if issubclass(cls, Generator) else "discriminator"


class Generator(_Network):
    """Maps a batch of latent vectors (N, latent_dim) to samples (N, *data.shape)."""

    #: The output activation; the trainer maps the data into its range.
    output: ClassVar[str] = "tanh"

    def __init__(self, data: DataSpec, latent_dim: int, **params: Any) -> None:
        super().__init__()
        self.data = data
        self.latent_dim = latent_dim

    @classmethod
    def output_range(cls) -> tuple[float, float]:
        return OUTPUT_RANGES[cls.output]


class Discriminator(_Network):
    """Maps a batch of samples (N, *data.shape) to one logit per sample, shape (N,)."""

    def __init__(self, data: DataSpec, **params: Any) -> None:
        super().__init__()
        self.data = data


class Dataset(ABC):
    """A source of real samples, with the places it looks for its files."""

    kind: ClassVar[str] = "image"
    shape: ClassVar[tuple[int, ...]] = ()
    #: The range of the values :meth:`load` returns.
    value_range: ClassVar[tuple[float, float]] = (0.0, 1.0)
    splits: ClassVar[tuple[str, ...]] = ("train", "test")
    defaults: ClassVar[dict[str, Any]] = {}
    #: The classifier shipped with ganzoo whose features ``ganzoo eval`` measures this data in
    #: ("mnist", "fashion-mnist"); None: Inception-v3 for images, curve statistics for sequences.
    classifier: ClassVar[str | None] = None

    def __init__(self, data_dir: Path | None = None, **params: Any) -> None:
        unknown = sorted(set(params) - set(self.defaults))
        if unknown:
            name = getattr(type(self), "registered_name", type(self).__name__)
            raise UsageError(
                f"The dataset '{name}' has no parameter {', '.join(unknown)}; "
                f"it takes {', '.join(self.defaults) or 'none'}."
            )
        self.data_dir = data_dir
        self.params = {**self.defaults, **params}

    def spec(self) -> DataSpec:
        return DataSpec(tuple(self.shape), self.kind, tuple(self.value_range))  # type: ignore[arg-type]

    @abstractmethod
    def load(self, split: str = "train") -> torch.Tensor | torch.utils.data.Dataset[torch.Tensor]:
        """All samples of ``split`` as one float32 tensor (N, *shape) in :attr:`value_range`.

        A dataset too large for memory may instead return a map-style torch Dataset whose items
        are such samples; the trainer then streams it.
        """

    def fetch(self) -> str:
        """Make the data available offline (download into the cache); returns where it is."""
        return self.status().where

    def status(self) -> DataStatus:
        """Whether the files are present now, and where."""
        return DataStatus(True, "generated on the fly")


class Loss(ABC):
    """A GAN objective on discriminator logits (or critic outputs)."""

    defaults: ClassVar[dict[str, Any]] = {}

    def __init__(self, **params: Any) -> None:
        self.params = params

    @abstractmethod
    def d_real(self, logits: torch.Tensor) -> torch.Tensor:
        """The discriminator's loss on real samples (a scalar)."""

    @abstractmethod
    def d_fake(self, logits: torch.Tensor) -> torch.Tensor:
        """The discriminator's loss on generated samples (a scalar)."""

    @abstractmethod
    def g(self, logits: torch.Tensor) -> torch.Tensor:
        """The generator's loss given the discriminator's logits on its samples (a scalar)."""

    def penalty(
        self, discriminator: Discriminator, real: torch.Tensor, fake: torch.Tensor
    ) -> torch.Tensor | None:
        """An optional extra term for the discriminator (a gradient penalty, say)."""
        return None
