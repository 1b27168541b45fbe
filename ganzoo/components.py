"""The four abstract kinds of component: what each must declare and provide.

Shapes flow from the dataset: a Generator or Discriminator is built for the dataset's
:class:`DataSpec` and serves the :attr:`modalities` it declares; :meth:`check` refuses specs of
those it still cannot serve. Everything the core asks of a component is a documented attribute or
method here; the core never stamps attributes onto a plugin's classes.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

import torch
import torch.utils.data
from torch import nn

from ganzoo.dataspec import DataSpec, DataStatus
from ganzoo.errors import UsageError

__all__ = ["OUTPUT_RANGES", "DataSpec", "DataStatus", "Dataset", "Discriminator", "Generator", "Loss"]

#: The value range each output activation produces.
OUTPUT_RANGES: dict[str, tuple[float, float]] = {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0)}


def declare_hyperparameters(cls: type, positional: tuple[str, ...]) -> None:
    """One source of truth for a component's hyperparameters: its ``__init__``'s keyword parameters.

    A class that leaves ``defaults`` out gets them from its constructor's signature (every parameter
    with a default, after the ``positional`` ones ganzoo passes itself: data, latent_dim, data_dir).
    A class that declares ``defaults`` as well must agree with its constructor, name for name and
    value for value (a constructor taking ``**params`` may receive names it does not list); a
    disagreement is a TypeError when the class is defined, which ganzoo reports as the plugin
    failing to load, naming both.
    """
    init = cls.__dict__.get("__init__")
    if init is None:  # inherited: so are the parent's hyperparameters, already checked
        return
    signature = inspect.signature(init)
    named = {
        name: p.default
        for name, p in list(signature.parameters.items())[1:]  # after self
        if name not in positional and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    }
    open_ended = any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values())
    keywords = {name: value for name, value in named.items() if value is not inspect.Parameter.empty}
    if "defaults" not in cls.__dict__:
        if keywords or not open_ended:  # a constructor taking only **params keeps the inherited ones
            cls.defaults = keywords  # type: ignore[attr-defined]
        return
    declared: dict[str, Any] = cls.__dict__["defaults"]
    problems = [f"{k}={declared[k]!r} in defaults but {v!r} in __init__" for k, v in keywords.items()
                if k in declared and declared[k] != v]  # fmt: skip
    problems += [f"{k} in defaults but not a parameter of __init__" for k in declared
                 if k not in named and not open_ended]  # fmt: skip
    problems += [f"{k} a parameter of __init__ but not in defaults" for k in keywords if k not in declared]
    if problems:
        raise TypeError(
            f"{cls.__module__}.{cls.__qualname__} declares its hyperparameters twice, and they disagree: "
            f"{'; '.join(problems)}. Leave `defaults` out: ganzoo reads them from __init__."
        )


class _Network(nn.Module):
    """What Generators and Discriminators share: declared modalities, defaults and a shape check."""

    #: The data modalities this network serves ("image", "sequence").
    modalities: ClassVar[tuple[str, ...]] = ("image",)
    #: Architecture hyperparameters (reachable with ``--set generator.NAME=VALUE``).
    defaults: ClassVar[dict[str, Any]] = {}
    #: Training defaults for this network's side: optimizer, lr, betas, momentum, nesterov (and for
    #: the generator also latent_dim, prior, batch_size, loss).
    train_defaults: ClassVar[dict[str, Any]] = {}
    #: True: it can condition on class labels. In a conditional run (``--conditional``) it is built
    #: for a DataSpec whose ``classes`` are the data's and called with the labels as a second
    #: argument, int64 (N,); otherwise its spec has no classes and it is called with one argument,
    #: as before. So a network conditions exactly when ``self.data.classes`` is not empty.
    conditional: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "kinds" in cls.__dict__ and "modalities" not in cls.__dict__:  # the name before ganzoo 0.2
            cls.modalities = tuple(cls.__dict__["kinds"])
        declare_hyperparameters(cls, ("data", "latent_dim"))

    @classmethod
    def check(cls, data: DataSpec) -> None:
        """Raise :class:`ganzoo.errors.IncompatibleError` with a sentence if this network cannot
        serve ``data`` although it is of one of its :attr:`modalities` (ganzoo checks those first)."""

    @classmethod
    def role(cls) -> str:
        """ "generator" or "discriminator", for a plugin's own messages."""
        return "generator" if issubclass(cls, Generator) else "discriminator"


class Generator(_Network):
    """Maps a batch of latent vectors (N, latent_dim) to samples (N, *data.shape); a conditional one
    built for classes also takes each sample's class label, ``forward(z, labels)``."""

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
    """Maps a batch of samples (N, *data.shape) to one logit per sample, shape (N,); a conditional one
    built for classes also takes each sample's class label, ``forward(x, labels)``.

    A conditional discriminator may also implement ``classify(x) -> (N, classes)`` class logits:
    ACGAN's auxiliary classifier (Odena et al. 2017), which ``--set loss.acgan=WEIGHT`` trains.
    """

    def __init__(self, data: DataSpec, **params: Any) -> None:
        super().__init__()
        self.data = data


class Dataset(ABC):
    """A source of real samples, with the places it looks for its files."""

    #: How messages name this dataset (the built-ins: the name they register under).
    name: ClassVar[str] = ""
    #: "image" (shape (C, H, W)) or "sequence" (shape (L,)).
    modality: ClassVar[str] = "image"
    shape: ClassVar[tuple[int, ...]] = ()
    #: The range of the values :meth:`load` returns.
    value_range: ClassVar[tuple[float, float]] = (0.0, 1.0)
    splits: ClassVar[tuple[str, ...]] = ("train", "test")
    defaults: ClassVar[dict[str, Any]] = {}
    #: The names of its classes, in label order (label 0 is the first); () for data without classes.
    #: A dataset whose classes depend on its files overrides :meth:`class_names` instead.
    classes: ClassVar[tuple[str, ...]] = ()
    #: The classifier shipped with ganzoo whose features ``ganzoo eval`` measures this data in
    #: ("mnist", "fashion-mnist"); None: Inception-v3 for images, curve statistics for sequences.
    classifier: ClassVar[str | None] = None
    #: How ``ganzoo eval`` labels the figures :meth:`eval_figures` returns.
    figure_labels: ClassVar[dict[str, str]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "kind" in cls.__dict__ and "modality" not in cls.__dict__:  # the name before ganzoo 0.2
            cls.modality = cls.__dict__["kind"]
        declare_hyperparameters(cls, ("data_dir",))

    def __init__(self, data_dir: Path | None = None, **params: Any) -> None:
        unknown = sorted(set(params) - set(self.defaults))
        if unknown:
            raise UsageError(
                f"The dataset '{self.display_name()}' has no parameter {', '.join(unknown)}; "
                f"it takes {', '.join(self.defaults) or 'none'}."
            )
        self.data_dir = data_dir
        self.params = {**self.defaults, **params}

    @classmethod
    def display_name(cls) -> str:
        """:attr:`name`, or the class's name when it declares none."""
        return cls.name or cls.__name__

    @property
    def kind(self) -> str:
        """The modality under its name before ganzoo 0.2."""
        return self.modality

    def spec(self) -> DataSpec:
        shape, span = tuple(self.shape), tuple(self.value_range)
        return DataSpec(shape, self.modality, span, self.class_names())  # type: ignore[arg-type]

    def class_names(self) -> tuple[str, ...]:
        """The names of the classes its labels count, in label order; () when it has none."""
        return tuple(self.classes)

    def labels(self, split: str = "train") -> torch.Tensor:
        """The int64 class label (N,) of each sample :meth:`load` returns for ``split``, in its order.

        Datasets with :meth:`class_names` implement it; the others have no labels to give.
        """
        name = self.display_name()
        raise UsageError(f"The dataset '{name}' has no classes, so its samples have no labels.")

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

    def eval_figures(self, generated: torch.Tensor, real: torch.Tensor) -> dict[str, float]:
        """Figures of this dataset's own for ``ganzoo eval``, beside the generic ones; {} by default.

        ``generated`` and ``real`` (from the reference split) are float (N, *shape) in
        :attr:`value_range`. The sine dataset returns how well each curve fits a sine.
        """
        return {}


class Loss:
    """A GAN objective on discriminator logits (or critic outputs).

    Two ways to write one. A **per-batch** loss implements :meth:`d_real`, :meth:`d_fake` and
    :meth:`g`, each seeing one batch's logits (every update order can train it). A **pairwise**
    loss sets ``pairwise = True`` and implements :meth:`d_loss` and :meth:`g_loss`, which see the
    logits of the real and the generated batch together (a relativistic loss compares them); it
    trains with the update orders that show D both batches at once (joint, concat, mixed).
    Either may add :meth:`penalties`, extra terms of D's objective, each logged as a figure of its
    own. The call order in one iteration is in docs/plugins.md.
    """

    #: Hyperparameters (``--set loss.NAME=VALUE``), passed to ``__init__`` as keywords.
    defaults: ClassVar[dict[str, Any]] = {}
    #: Training settings this loss trains best with (``d_update``, ``d_steps``, ``lr_g``, ``lr_d``,
    #: ``betas_g``, ``betas_d``, ...): above the networks' defaults, below the recipe and the user.
    train_defaults: ClassVar[dict[str, Any]] = {}
    #: True: D's and G's objectives see the real and the fake logits together (:meth:`d_loss`,
    #: :meth:`g_loss`); G's step then also runs D on a real batch.
    pairwise: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        declare_hyperparameters(cls, ())

    def __init__(self, **params: Any) -> None:
        self.params = params

    # -- per-batch losses -----------------------------------------------------------------------
    def d_real(self, logits: torch.Tensor) -> torch.Tensor:
        """The discriminator's loss on real samples (a scalar)."""
        raise NotImplementedError(f"{type(self).__name__} implements neither d_real nor d_loss")

    def d_fake(self, logits: torch.Tensor) -> torch.Tensor:
        """The discriminator's loss on generated samples (a scalar)."""
        raise NotImplementedError(f"{type(self).__name__} implements neither d_fake nor d_loss")

    def g(self, logits: torch.Tensor) -> torch.Tensor:
        """The generator's loss given the discriminator's logits on its samples (a scalar)."""
        raise NotImplementedError(f"{type(self).__name__} implements neither g nor g_loss")

    # -- both batches at once -------------------------------------------------------------------
    def d_loss(self, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
        """D's objective on both batches (a scalar); for a per-batch loss, d_real + d_fake."""
        return self.d_real(real_logits) + self.d_fake(fake_logits)

    def g_loss(self, fake_logits: torch.Tensor, real_logits: torch.Tensor | None) -> torch.Tensor:
        """G's objective (a scalar). ``real_logits``: D on a real batch of the same size, as D is
        after its update, without a gradient (None for a per-batch loss, which never needs it)."""
        return self.g(fake_logits)

    # -- extra terms ----------------------------------------------------------------------------
    def penalty(
        self, discriminator: Discriminator, real: torch.Tensor, fake: torch.Tensor
    ) -> torch.Tensor | None:
        """An optional extra term for the discriminator (a gradient penalty, say)."""
        return None

    def penalty_names(self) -> tuple[str, ...]:
        """The names of the terms :meth:`penalties` returns, each logged as a figure. No need to
        override it (ganzoo 0.2's contract): ganzoo reads them from one call of :meth:`penalties` on
        two samples before training."""
        return ("penalty",) if type(self).penalty is not Loss.penalty else ()

    def penalties(
        self, discriminator: Discriminator, real: torch.Tensor, fake: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        """Named extra terms for D's objective (added to it, each logged as a figure of its own);
        by default :meth:`penalty`'s term, named "penalty"."""
        term = self.penalty(discriminator, real, fake)
        return {} if term is None else {"penalty": term}
