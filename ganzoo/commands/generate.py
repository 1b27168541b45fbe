"""``ganzoo generate``: samples of a trained generator as a grid, a tensor file or a folder of PNGs;
``--nice`` keeps the ones the run's discriminator rates most real (source 000)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ganzoo import rundir, runlock, settings
from ganzoo.commands.results import Result
from ganzoo.errors import UsageError
from ganzoo.manager import PluginManager, get_manager
from ganzoo.resolve import sampling_device
from ganzoo.rundir import Run, load_generator
from ganzoo.settings import check_truncation

if TYPE_CHECKING:
    from ganzoo.loaded import LoadedGenerator


@dataclass(frozen=True)
class Generated(Result):
    """What ``generate`` wrote: the file or folder, how many samples, each sample's class (a
    conditional generator's) and whether it went where asked (False: the run was being trained by
    another process, so the default grid went to the current folder instead of RUN/samples)."""

    path: Path
    count: int
    classes: list[str] | None = field(default=None, metadata={"json": "omit-none"})
    where_asked: bool = True

    def __fspath__(self) -> str:  # ganzoo 0.2 returned the path itself: open(generate(...)) still works
        return str(self.path)


def generate(
    run: str | Path,
    n: int | None = None,
    seed: int | None = None,
    out: Path | None = None,
    nice: bool = False,
    device: str | None = None,
    manager: PluginManager | None = None,
    nice_factor: int = 20,
    smooth: int = 0,
    interpolate: bool = False,
    steps: int = 10,
    cls: int | str | None = None,
    per_class: int | None = None,
    truncation: float | None = None,
) -> Generated:
    """Write ``n`` samples (default 64; with ``interpolate``, 8 walks) as a PNG grid, a
    ``.safetensors`` file (tensor ``samples``) or a folder of PNGs; returns where, how many, and of
    which classes.

    ``nice`` draws ``nice_factor``×n samples and keeps the n the run's discriminator rates most real
    (source 000). Sequences go to a PNG as curves (``smooth``: source 004's rolling mean).
    ``interpolate`` makes ``n`` rows of ``steps`` samples, each row a walk through the latent space
    between two random points (slerp for a normal prior).

    A conditional run's generator makes the class ``cls`` (a name or a number), or ``per_class``
    samples of every class, one row each (instead of ``n``); by default one class a row, as the
    training grids. The ``.safetensors`` file then holds each sample's class in tensor ``labels``
    and the class names in its metadata; ``nice`` ranks each sample among its own class's.
    ``truncation`` ψ in (0, 1] pulls the noise toward the prior's centre (less variety, more typical
    samples: :func:`ganzoo.sampling.noise`); a ``.safetensors`` file and a PNG record it.
    """

    import torch

    from ganzoo.sampling import grid_columns

    if per_class is not None and per_class <= 0:
        raise UsageError(f"--per-class must be a positive whole number, got {per_class}.")
    if per_class is not None and cls is not None:
        raise UsageError("--per-class draws every class; give it or --class, not both.")
    if per_class is not None and (n is not None or interpolate):
        raise UsageError("--per-class sets how many samples (N of every class); drop -n and --interpolate.")
    n = n if n is not None else 8 if interpolate else 64
    if n <= 0:
        raise UsageError(f"-n must be a positive whole number, got {n}.")
    if nice and nice_factor < 1:
        raise UsageError(f"--nice-factor must be at least 1, got {nice_factor}.")
    if interpolate and nice:
        raise UsageError("--interpolate takes --steps of at least 2 and does not go with --nice.")
    if interpolate and steps < 2:
        raise UsageError(f"--steps must be at least 2 (the two ends of each walk), got {steps}.")
    if seed is not None:
        settings.check("seed", seed, "--seed")
    psi = check_truncation(truncation)
    if smooth < 0:
        raise UsageError(f"--smooth must be a whole number of points, 0 (none) or more, got {smooth}.")
    # What -o asks for is checked before the generator is loaded and sampled.
    is_dir = out is not None and (
        str(out).endswith(("/", "\\")) or Path(out).is_dir() or not Path(out).suffix
    )
    if out is not None and not is_dir and Path(out).suffix.lower() not in (".png", ".safetensors"):
        raise UsageError(f"-o {out}: give a .png grid, a .safetensors file, or a folder.")
    from ganzoo.pretrained import resolve

    run = resolve(run, manager)
    g = load_generator(run, device=sampling_device(device), manager=manager)
    if per_class is not None:
        if not g.classes:
            g.class_label(0)  # the sentence: an unconditional generator has no classes to draw
        n = per_class * len(g.classes)
    labels = g.labels(n, cls)
    if per_class is not None:
        labels = torch.arange(len(g.classes), device=g.device).repeat_interleave(per_class)
    if interpolate and g.spec.modality != "image":
        raise UsageError("--interpolate draws a grid of images; this generator makes sequences.")
    if is_dir and g.spec.modality != "image":
        raise UsageError("A folder of PNGs needs image samples; use a .safetensors file for sequences.")
    if smooth > 1 and g.spec.modality == "sequence" and smooth > g.spec.shape[-1]:
        raise UsageError(
            f"--smooth {smooth} is longer than the curves, which have {g.spec.shape[-1]} points; "
            f"give at most {g.spec.shape[-1]}."
        )
    _check_samples_fit(g, n, steps if interpolate else nice_factor if nice else 1, interpolate, nice)
    if interpolate:
        if labels is not None:  # one class a walk: the one asked for, else row r in class r
            labels = labels if cls is not None else torch.arange(n, device=g.device) % len(g.classes)
        samples = g.interpolate(n, steps, seed=seed, labels=labels, truncation=psi)
        labels = None if labels is None else labels.repeat_interleave(steps)
    elif nice:
        samples = _nice(g, Path(run), n, seed, manager or get_manager(), nice_factor, labels, psi)
    else:
        samples = g.sample(n, seed=seed, labels=labels, truncation=psi)
    samples = samples.cpu()
    columns = steps if interpolate else None
    if labels is not None and not interpolate and cls is None:
        columns = per_class or grid_columns(n, len(g.classes))
    run_path = Path(run)
    inside = out is None and run_path.is_dir() and (run_path / rundir.CONFIG).is_file()
    with runlock.writing(run_path) if inside else contextlib.nullcontext(False) as mine:
        if out is None:  # RUN/samples/, unless another process is training the run: then here
            what = "interpolation" if interpolate else "generated"
            which = f"-class{labels[0].item()}" if cls is not None and labels is not None else ""
            which += f"-per-class{per_class}" if per_class is not None else ""
            name = f"{what}-seed{seed if seed is not None else 'random'}{which}.png"
            base = run_path if run_path.is_dir() else run_path.parent
            out = base / "samples" / name if mine or not inside else Path.cwd() / name
        path = _write_samples(Path(out), samples, g, is_dir, columns, smooth, labels, seed, psi)
    names = None if labels is None else [g.classes[i] for i in labels.tolist()]
    return Generated(path, len(samples), names, not inside or bool(mine))


def _write_samples(
    out: Path,
    samples: Any,
    g: LoadedGenerator,
    is_dir: bool,
    columns: int | None,
    smooth: int,
    labels: Any,
    seed: int | None,
    truncation: float = 1.0,
) -> Path:
    """Samples to ``out``: a folder of PNGs, a PNG grid (or curves), or a .safetensors file (whose
    metadata, and a PNG's text, record the truncation when there was one)."""
    import json

    from ganzoo.sampling import save_grid

    if is_dir:
        out.mkdir(parents=True, exist_ok=True)
        for i, image in enumerate(samples):
            save_grid(image.unsqueeze(0), out / f"{i:06d}.png")
    elif out.suffix.lower() == ".png":
        if g.spec.modality == "image":
            note = {"ganzoo-truncation": str(truncation)} if truncation != 1.0 else None
            save_grid(samples, out, columns=columns, text=note)
        else:
            from ganzoo.plots import plot_curves

            plot_curves(samples, None, out, smooth=smooth)
    else:  # .safetensors, as checked above
        from safetensors.torch import save_file

        from ganzoo.files import atomic_path

        tensors = {"samples": samples.contiguous()}
        metadata = {"generator": g.config.generator, "seed": str(seed), "truncation": str(truncation)}
        if labels is not None:  # each sample's class, and the names of the classes
            tensors["labels"] = labels.cpu().contiguous()
            metadata["classes"] = json.dumps(list(g.classes))
        with atomic_path(out) as tmp:
            save_file(tensors, str(tmp), metadata=metadata)
    return out


def _check_samples_fit(g: LoadedGenerator, n: int, each: int, interpolate: bool, nice: bool) -> None:
    """Refuse ``n`` (times ``each``: --steps or --nice-factor) samples that cannot fit in memory."""
    from ganzoo import memory

    per = memory.sampling_bytes(g.module, g.latent_dim, g.spec.shape, bool(g.classes), g.device)
    what = f"--interpolate -n {n} --steps {each}" if interpolate else f"--nice -n {n}" if nice else f"-n {n}"
    memory.check_fits(what, n, per * each, g.device)


def _nice(
    g: LoadedGenerator,
    run: Path,
    n: int,
    seed: int | None,
    manager: PluginManager,
    factor: int,
    labels: Any = None,
    truncation: float = 1.0,
) -> Any:
    """The ``n`` of ``factor``·n samples the run's discriminator rates most real; of a conditional
    generator, for each class in ``labels`` the best of its own candidates, rated for that class."""
    from ganzoo import build, checkpoint
    from ganzoo.record import RunRecord
    from ganzoo.sampling import rescale

    path = Run.open(run if run.is_dir() else run.parent).weights("discriminator")
    tensors, doc = checkpoint.load_weights(path, "discriminator")
    record = RunRecord.from_json(doc, where=f"The run record in {path}'s metadata is damaged")
    config = record.config
    config.discriminator = record.components.get("discriminator", config.discriminator)
    c = build.component(manager, "discriminator", config.discriminator, record=record)
    d = build.build_discriminator(c, config, g.spec).to(g.device)
    d.load_state_dict(tensors)
    d.eval()
    sample_range = (0.0, 1.0) if g.spec.modality == "image" else g.spec.value_range
    out_range = type(g.module).output_range()
    if labels is None:
        candidates = g.sample(factor * n, seed=seed, truncation=truncation)
        # A discriminator may return (N, 1) logits (docs/plugins.md): one score a sample.
        return top_scored(candidates, lambda x: d(rescale(x, sample_range, out_range)).flatten(), n)
    import torch

    from ganzoo.sampling import noise

    # One noise stream for every class's candidates, drawn class after class.
    gen = torch.Generator(device=g.device)
    gen.manual_seed(seed if seed is not None else int(torch.seed() & 0x7FFFFFFF))
    out = torch.empty(n, *g.spec.shape, device=g.device)
    for label in labels.unique().tolist():
        where = (labels == label).nonzero().flatten()
        k = len(where)
        z = noise(g.config.train.prior, factor * k, g.latent_dim, gen, g.device, truncation)
        candidates = g.decode(z, labels=label)
        y = torch.full((factor * k,), label, dtype=torch.long, device=g.device)
        out[where] = top_scored(
            candidates, lambda x, y=y: d(rescale(x, sample_range, out_range), y).flatten(), k
        )
    return out


def top_scored(candidates: Any, score: Any, n: int) -> Any:
    """The ``n`` candidates ``score`` rates highest (most real), best first."""
    import torch

    with torch.inference_mode():
        scores = score(candidates)
    return candidates[scores.argsort(descending=True)[:n]]
