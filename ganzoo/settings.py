"""The training settings and the run configuration: one schema, from which the command line's
options, the validation and the resume rules are all derived.

Each :class:`TrainSettings` field carries its help text, its bounds or choices, whether it has
a ``ganzoo train`` option, and whether a resumed run may change it. Light: no torch.
"""

from __future__ import annotations

import functools
import math
import types
import typing
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from ganzoo.errors import UsageError

#: The component kinds a run configuration names, in the order they are built.
KINDS = ("generator", "discriminator", "dataset", "loss")
PRIORS = ("normal", "uniform", "uniform01")
OPTIMIZERS = ("adam", "sgd", "rmsprop")
#: The update orders of D and G (ganzoo.training.step holds one function for each).
UPDATE_ORDERS = ("split", "joint", "concat", "mixed")
#: The orders whose D objective sees the real and the fake batch at once: a pairwise (relativistic)
#: loss trains only with these.
BOTH_BATCH_ORDERS = ("joint", "concat", "mixed")
DATA_ORDERS = ("random", "shuffle", "sequential")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
MEMORY_FORMATS = ("auto", "channels_last", "contiguous")
ON_NAN = ("stop", "skip")
#: How the learning rates fall over a run (ganzoo.optim.lr_factor).
LR_DECAYS = ("none", "linear", "cosine")
#: DiffAugment's operations (ganzoo.training.augment).
AUGMENT_OPS = ("color", "translation", "cutout")
#: Component hyperparameters ganzoo itself implements for every loss and every discriminator, beside
#: the ones a component declares (``--set loss.r1=10``, ``--set discriminator.spectral_norm=true``):
#: zero-centred R1/R2 gradient penalties and how often they are computed (ganzoo.training.regularize),
#: the weight of ACGAN's auxiliary classification loss in a conditional run (ganzoo.training.step),
#: and spectral normalisation of D's Linear and Conv layers (ganzoo.build).
CORE_PARAMS: dict[str, dict[str, Any]] = {
    "loss": {"r1": 0.0, "r2": 0.0, "reg_every": 1, "acgan": 0.0},
    "discriminator": {"spectral_norm": False},
}


def check_core_param(kind: str, key: str, value: Any) -> None:
    """Refuse, in one sentence, a value of one of ganzoo's own hyperparameters (``CORE_PARAMS``) that
    is out of its range: the one place they are checked, when a run is planned."""
    if key in ("r1", "r2", "acgan"):
        if not finite_number(value) or not value >= 0:
            raise UsageError(f"{kind}.{key} must be a finite number of at least 0, got {brief(value)}.")
    elif key == "reg_every":
        if not finite_number(value) or not isinstance(value, int) or value < 1:
            raise UsageError(f"{kind}.{key} must be a positive whole number, got {brief(value)}.")
    elif key == "spectral_norm" and not isinstance(value, bool):
        raise UsageError(f"{kind}.{key} must be true or false, got {brief(value)}.")


#: Seeds are below 2^32: torch's CPU generator (a Mersenne Twister) keeps only a seed's low 32 bits,
#: so 2^32 + 1 would train exactly as 1 does.
SEED_LIMIT = 2**32


def check_truncation(psi: float | None) -> float:
    """ψ for :func:`ganzoo.sampling.noise`, refused in one sentence outside (0, 1]; None is 1 (none)."""
    if psi is None:
        return 1.0
    if isinstance(psi, bool) or not isinstance(psi, (int, float)) or not 0 < psi <= 1:
        raise UsageError(f"--truncation must be a number in (0, 1] (1: none), got {psi!r:.40}.")
    return float(psi)


def setting(
    default: Any,
    help: str,
    *,
    option: bool = False,
    choices: tuple[str, ...] | None = None,
    items: tuple[str, ...] | None = None,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
    what: str | None = None,
    resume: bool = False,
    replaces: str | None = None,
) -> Any:
    """A TrainSettings field with its schema.

    ``option``: ``ganzoo train`` has ``--NAME`` for it. ``items``: a comma-separated list of these
    words (or empty). ``ge``/``gt``/``le``/``lt``: bounds
    (≥, >, ≤, <); ``what`` words them for messages when the default wording will not do.
    ``resume``: a resumed run may change it. ``replaces``: setting this one in a layer clears that
    field set lower down (asking for iterations overrides a recipe counted in epochs).
    """
    meta = {
        "help": help,
        "option": option,
        "choices": choices,
        "items": items,
        "bounds": {k: v for k, v in (("ge", ge), ("gt", gt), ("le", le), ("lt", lt)) if v is not None},
        "what": what,
        "resume": resume,
        "replaces": replaces,
    }
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class TrainSettings:
    """How to train: every field may appear in a recipe's [NAME.train] table, the user's settings
    file, ``--set KEY=VALUE`` and, where it has one, its ``ganzoo train`` option."""

    iterations: int = setting(
        10000, "Total generator steps.", option=True, ge=1, resume=True, replaces="epochs"
    )
    epochs: float | None = setting(
        None, "Passes over the data (overrides --iterations).", option=True, gt=0, resume=True
    )
    batch_size: int = setting(128, "Real samples per discriminator step.", option=True, ge=1)
    latent_dim: int = setting(100, "The generator's noise dimension.", option=True, ge=1)
    conditional: bool = setting(
        False, "Condition both networks on the data's class labels (a class-conditional GAN).", option=True
    )
    prior: str = setting("normal", "The noise prior.", choices=PRIORS)
    optimizer_g: str = setting("adam", "The generator's optimiser.", choices=OPTIMIZERS)
    lr_g: float = setting(0.0002, "Generator learning rate.", option=True, gt=0)
    betas_g: list[float] = setting([0.5, 0.999], "Adam's betas for the generator.")
    momentum_g: float = setting(0.0, "SGD/RMSprop momentum for the generator.", ge=0)
    nesterov_g: bool = setting(False, "Nesterov momentum for the generator's SGD.")
    optimizer_d: str = setting("adam", "The discriminator's optimiser.", choices=OPTIMIZERS)
    lr_d: float = setting(0.0002, "Discriminator learning rate.", option=True, gt=0)
    betas_d: list[float] = setting([0.5, 0.999], "Adam's betas for the discriminator.")
    momentum_d: float = setting(0.0, "SGD/RMSprop momentum for the discriminator.", ge=0)
    nesterov_d: bool = setting(False, "Nesterov momentum for the discriminator's SGD.")
    # Both learning rates fall together from their value to 0 at the last iteration, starting at the
    # fraction lr_decay_start of the run (CycleGAN's "linear" after half the run: 0.5).
    lr_decay: str = setting(
        "none", "How both learning rates fall to 0 by the last iteration: none, linear or cosine.",
        choices=LR_DECAYS,
    )  # fmt: skip
    lr_decay_start: float = setting(
        0.0, "The fraction of the run after which the learning rates start to fall.", ge=0, lt=1,
        what="a fraction of the run from 0 up to (not including) 1",
    )  # fmt: skip
    # FreezeD (Mo et al. 2020): fine-tuning from a trained D (--init) keeps its first layers fixed.
    freeze_d: int = setting(
        0, "Keep the discriminator's first K layers (those with weights, in order) fixed: FreezeD.", ge=0,
        what="a whole number of layers, 0 (none) or more",
    )  # fmt: skip
    d_steps: int = setting(1, "Discriminator steps per generator step.", option=True, ge=1)
    d_update: str = setting("joint", "How D's step treats its real and fake batches.", choices=UPDATE_ORDERS)
    reuse_fake: bool = setting(True, "G's step reuses the fake batch of D's last step.")
    data_order: str = setting("random", "How real batches are drawn.", choices=DATA_ORDERS)
    seed: int | None = setting(
        None, "Makes a CPU run repeatable.", option=True, ge=0, le=SEED_LIMIT - 1,
        what="a whole number from 0 to 2^32 - 1 (4294967295)",
    )  # fmt: skip
    device: str = setting(
        "auto",
        "auto, cpu, cuda, cuda:N or mps (default: $GANZOO_DEVICE, else auto).",
        option=True,
        resume=True,
    )
    threads: int | None = setting(
        None, "CPU threads for torch (default: OMP_NUM_THREADS, else the usable cores).", option=True, ge=1,
        le=4096, what="a whole number from 1 to 4096", resume=True,
    )  # fmt: skip
    sample_every: int = setting(
        1000, "Write a sample grid every N iterations.", option=True, ge=1, resume=True
    )
    samples: int = setting(64, "Samples in each grid.", ge=1)
    checkpoint_every: int = setting(
        1000, "Write a checkpoint every N iterations.", option=True, ge=1, resume=True
    )
    on_nan: str = setting(
        "stop",
        "A non-finite loss: stop the run (default), or skip that update (one host sync per update).",
        option=True, choices=ON_NAN, resume=True,
    )  # fmt: skip
    keep_checkpoints: int = setting(
        1, "Keep the last K checkpoints (default 1).", option=True, ge=1, resume=True
    )
    log_every: int = setting(100, "Log the figures every N iterations.", ge=1, resume=True)
    # A moving average of G's weights for sampling and eval (Karras et al. 2018, "Progressive
    # Growing of GANs", section A.1); None: off.
    ema: float | None = setting(
        None, "Keep a moving average of G's weights with this decay (e.g. 0.999).", option=True, gt=0,
        lt=1, what="a decay between 0 and 1 (like 0.999)",
    )  # fmt: skip
    ema_warmup: bool = setting(
        True, "Warm the EMA's decay up as min(decay, (1 + t) / (10 + t)) at G step t (TensorFlow's "
        "ExponentialMovingAverage); false: the decay from the first step.",
    )  # fmt: skip
    eval_every: int | None = setting(
        None, "Run `ganzoo eval` every N iterations and at the end.", option=True, ge=1, resume=True
    )
    eval_n: int = setting(10000, "Samples per evaluation during training.", ge=2, resume=True)
    precision: str = setting(
        "auto", "Autocast dtype of the forward passes; auto (the default): bf16 where the device "
        "computes it natively, else fp32; fp16 adds a gradient scaler.",
        option=True, choices=PRECISIONS,
    )  # fmt: skip
    deterministic: bool | None = setting(
        None, "On CUDA: deterministic cuDNN and cuBLAS kernels, so a run and its resume agree bit for bit "
        "(default: on for runs given --seed, off otherwise; no effect on the CPU, which is deterministic).",
        resume=True,
    )  # fmt: skip
    compile: bool = setting(
        False, "torch.compile both networks (opt-in: costs compile time up front).", option=True, resume=True
    )
    memory_format: str = setting("auto", "The memory layout of image batches.", choices=MEMORY_FORMATS)
    # Differentiable augmentation of D's inputs, real and generated alike (Zhao et al. 2020).
    augment: str = setting(
        "", "Augment what D sees, real and generated: comma-separated color, translation, cutout.",
        option=True, items=AUGMENT_OPS,
    )  # fmt: skip
    sync_bn: bool = setting(
        False, "Under torchrun on CUDA: BatchNorm statistics over all ranks' batches.", option=True
    )
    tensorboard: bool = setting(
        False,
        "Also log to RUN/tensorboard (needs the tensorboard package: pip install 'ganzoo[tensorboard]').",
        option=True, resume=True,
    )  # fmt: skip
    tracker: list[str] = setting(
        [], "Log to an experiment tracker: mlflow or wandb (repeatable; pip install 'ganzoo[mlflow]').",
        option=True, resume=True,
    )  # fmt: skip
    report: list[str] = setting(
        [], "Add a reporter a plugin registered, by name (repeatable; see `ganzoo list reporters`).",
        option=True, resume=True,
    )  # fmt: skip

    def validate(self) -> None:
        """One sentence (a UsageError) for the first value that is out of its bounds or choices."""
        for f in fields(self):
            check(f.name, getattr(self, f.name))


def total_iterations(s: TrainSettings, n_data: int, world: int = 1) -> int:
    """The run's iterations: ``--epochs`` wins over ``--iterations``. An epoch is one pass of
    batch-size draws over the data by the whole job, so under torchrun, where each of ``world``
    processes draws its own ``batch_size`` every step, it takes ``world`` times fewer steps."""
    if s.epochs is not None and n_data:
        return max(1, math.ceil(s.epochs * n_data / (s.batch_size * world)))
    return s.iterations


FIELDS = {f.name: f for f in fields(TrainSettings)}
TRAIN_KEYS = set(FIELDS)


def label(name: str) -> str:
    """How messages name a setting: its option where it has one (``--batch-size``), else its key."""
    return "--" + name.replace("_", "-") if FIELDS[name].metadata["option"] else name


@functools.cache
def value_type(name: str) -> Any:
    """The setting's value type without ``None`` (``int`` for ``int | None``)."""
    hint = typing.get_type_hints(TrainSettings)[name]
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
    return hint


def optional(name: str) -> bool:
    return FIELDS[name].default is None


def check(name: str, value: Any, shown: str | None = None) -> None:
    """Refuse ``value`` for setting ``name`` in one sentence when its type or bounds do not fit.

    The sentence names the setting as ``shown``, else by its :func:`label`.
    """
    meta, kind = FIELDS[name].metadata, value_type(name)
    if value is None and optional(name):
        return
    bounds, choices = meta["bounds"], meta["choices"]
    if choices is not None:
        ok, what = value in choices, "one of " + ", ".join(choices)
    elif meta["items"] is not None:
        parts = [p.strip() for p in value.split(",") if p.strip()] if isinstance(value, str) else [None]
        ok = all(p in meta["items"] for p in parts)
        what = "a comma-separated list of " + ", ".join(meta["items"])
    elif kind is bool:
        ok, what = isinstance(value, bool), "true or false"
    elif kind in (int, float):
        ok = finite_number(value) and (kind is float or isinstance(value, int)) and within(value, bounds)
        what = _number_words(kind, bounds)
        if isinstance(value, int) and not isinstance(value, bool) and not finite_number(value):
            what += " below 2^63"  # a whole number of hundreds of digits: say why it is refused
    elif kind == list[str]:  # reporter names
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        what = "a list of names"
    elif kind == list[float]:  # Adam's two betas
        ok = (
            isinstance(value, list)
            and len(value) == 2
            and all(isinstance(b, (int, float)) and not isinstance(b, bool) and 0 <= b < 1 for b in value)
        )
        what = "two numbers in [0, 1)"
    else:  # free text (the device), checked where it is used
        ok, what = isinstance(value, str), "text"
    if not ok:
        raise UsageError(f"{shown or label(name)} must be {meta['what'] or what}, got {brief(value)}.")


#: Whole numbers ganzoo passes to torch must fit its 64-bit integers.
INT_LIMIT = 2**63


def finite_number(value: Any) -> bool:
    """An int or float (not a bool) that is finite, and for an int within torch's 64 bits."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if isinstance(value, int):
        return -INT_LIMIT <= value < INT_LIMIT
    return math.isfinite(value)


def brief(value: Any, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters, for messages (a 400-digit number stays readable)."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def within(value: float, bounds: dict[str, float]) -> bool:
    """Whether ``value`` meets every bound (``ge`` ≥, ``gt`` >, ``le`` ≤, ``lt`` <)."""
    inf = math.inf
    return (
        value >= bounds.get("ge", -inf)
        and value > bounds.get("gt", -inf)
        and value <= bounds.get("le", inf)
        and value < bounds.get("lt", inf)
    )


def _number_words(kind: type, bounds: dict[str, float]) -> str:
    noun = "whole number" if kind is int else "number"
    if bounds.get("gt") == 0 or (kind is int and bounds.get("ge") == 1):
        return f"a positive {noun}"
    if bounds.get("ge") == 0:
        return f"a non-negative {noun}"
    if "ge" in bounds:
        return f"a {noun} of at least {bounds['ge']:g}"
    return f"a finite {noun}"


def layered(layers: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """The settings a stack of layers gives, lowest first: a higher layer's value wins.

    This is ganzoo's precedence, applied to every run: component defaults < recipe < the user's
    settings file < the environment < the command line (options, then ``--set``). A resumed run
    stacks the command line on the settings it recorded. Setting a field that ``replaces``
    another clears that other one when a lower layer set it: ``--iterations`` on a recipe
    counted in epochs trains that many iterations.
    """
    out: dict[str, Any] = {}
    for _, values in layers:
        for key, value in values.items():
            if value is None and key in out:
                continue  # "not given" never hides a lower layer
            out[key] = value
            other = FIELDS[key].metadata["replaces"] if key in FIELDS else None
            if other and other not in values and value is not None:
                out[other] = None
    return out


@dataclass
class RunConfig:
    """Everything needed to rebuild a run: components by name, their parameters, training settings."""

    generator: str
    discriminator: str
    dataset: str
    loss: str
    recipe: str | None = None
    params: dict[str, dict[str, Any]] = field(default_factory=lambda: {k: {} for k in KINDS})
    train: TrainSettings = field(default_factory=TrainSettings)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> RunConfig:
        """A recorded configuration (config.json's ``run``), checked as the command line would be.

        A damaged or hand-edited record raises ValueError whose message is a clause naming the
        first bad key (``run.train.batch_size must be a positive whole number, got 'x'``), for
        the caller to prefix with the file it came from. Keys a newer ganzoo added default.
        """
        if not isinstance(d, dict):
            raise ValueError(f"run must be a JSON object, got {d!r:.60}")
        for key in ("generator", "discriminator", "dataset", "loss"):
            if key not in d:
                raise ValueError(f"run.{key} is missing")
            if not isinstance(d[key], str) or not d[key]:
                raise ValueError(f"run.{key} must be a component's name, got {d[key]!r:.60}")
        if not isinstance(d.get("recipe"), (str, type(None))):
            raise ValueError(f"run.recipe must be a recipe's name, got {d['recipe']!r:.60}")
        train, params = d.get("train"), d.get("params", {})
        if not isinstance(train, dict):
            raise ValueError("run.train is missing" if train is None else "run.train must be a JSON object")
        if not isinstance(params, dict) or not all(isinstance(params.get(k, {}), dict) for k in KINDS):
            raise ValueError("run.params must map each kind to a JSON object")
        known = {k: v for k, v in train.items() if k in TRAIN_KEYS}
        for key, value in known.items():
            # Runs recorded before seeds stopped at 2^32 took up to 2^64 - 1: they still read.
            if key == "seed" and type(value) is int and 0 <= value < 2**64:
                continue
            try:
                check(key, value, shown=f"run.train.{key}")
            # TypeError, AttributeError: a JSON value of a type check never expects (a list for text).
            except (UsageError, TypeError, AttributeError) as exc:
                what = str(exc) if isinstance(exc, UsageError) else f"run.train.{key} cannot be {value!r:.60}"
                raise ValueError(what.rstrip(".")) from exc
        return cls(
            d["generator"],
            d["discriminator"],
            d["dataset"],
            d["loss"],
            d.get("recipe"),
            {k: dict(params.get(k, {})) for k in KINDS},
            TrainSettings(**known),
        )


def defaults() -> dict[str, Any]:
    """Every setting at its schema default."""
    return asdict(TrainSettings())
