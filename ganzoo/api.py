"""ganzoo's Python API; the command line is a thin layer over these functions."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ganzoo import env, rundir, runlock, settings
from ganzoo.errors import RunDirError, UsageError
from ganzoo.manager import PluginManager, get_manager
from ganzoo.progress import Progress
from ganzoo.resolve import Request, sampling_device
from ganzoo.rundir import Run
from ganzoo.runlock import RunLock
from ganzoo.settings import TRAIN_KEYS

if TYPE_CHECKING:
    from ganzoo.loaded import LoadedGenerator
    from ganzoo.training.reporters import Reporter


def list_components(kind: str | None = None, manager: PluginManager | None = None) -> list[dict[str, Any]]:
    """Every registered component (of one kind, if given) with who registered it; never imports torch."""
    manager = manager or get_manager()
    return [
        {
            "kind": e.kind,
            "name": e.name,
            "summary": e.summary,
            "dist": e.plugin.dist,
            "version": e.plugin.version,
            "plugin": e.plugin.name,
            "qualified": e.qualified,
            "ambiguous": len([x for x in manager.registry.entries(e.kind) if x.name == e.name]) > 1,
        }
        for e in manager.registry.entries(kind)
    ]


def train(
    arch: str | None = None,
    dataset: str | None = None,
    *,
    recipe: str | None = None,
    generator: str | None = None,
    discriminator: str | None = None,
    loss: str | None = None,
    out: Path | None = None,
    runs_root: Path | None = None,
    force: bool = False,
    data_dir: Path | None = None,
    sets: list[str] | tuple[str, ...] = (),
    resume: Path | None = None,
    progress: Progress | None = None,
    manager: PluginManager | None = None,
    reporters: Sequence[Reporter] = (),
    **options: Any,
) -> Run:
    """Train ``arch`` on ``dataset`` (or resume a run) and return the :class:`ganzoo.Run`.

    ``options`` are training settings (iterations, batch_size, lr_g, device, seed, ...) that
    override the recipe; ``sets`` are ``KEY=VALUE`` strings reaching any declared hyperparameter;
    ``reporters`` are :class:`ganzoo.training.Reporter` objects that act on the loop's events.
    """
    from ganzoo import build, planning
    from ganzoo.training import launch

    manager = manager or get_manager()
    options = {k: (list(v) if isinstance(v, tuple) else v) for k, v in options.items() if v is not None}
    unknown = sorted(set(options) - TRAIN_KEYS)
    if unknown:
        raise UsageError(f"'{unknown[0]}' is not a training setting; see `ganzoo train --help`.")
    if resume is not None:
        if force:
            raise UsageError(
                "--force lets a new run fill a folder that is not empty; --resume continues a run in its "
                "own folder: give one or the other."
            )
        names = {
            "arch": arch,
            "dataset": dataset,
            "generator": generator,
            "discriminator": discriminator,
            "loss": loss,
            "recipe": recipe,
        }
        if env.rank() == 0:  # a run another process is writing: say so before reading it
            RunLock(Run.open(Path(resume)).path).check_free()
        plan = planning.resume(Path(resume), names, options, tuple(sets), out, data_dir)
    else:
        if arch is None or dataset is None:
            raise UsageError("Name an architecture and a dataset, e.g. `ganzoo train vanilla-mlp mnist`.")
        request = Request(arch, dataset, recipe, generator, discriminator, loss, options, tuple(sets))
        lookup = partial(build.lookup, manager)
        plan = planning.new_run(request, lookup, out, runs_root, force, data_dir)
    return launch.execute(launch.build(plan, manager, progress, reporters))


def load_generator(
    path: Path, device: str = "cpu", manager: PluginManager | None = None, ema: bool = True
) -> LoadedGenerator:
    """Rebuild the generator of a run directory (or of a generator.safetensors file).

    A run trained with ``--ema`` samples from its moving-average weights unless ``ema`` is False.
    """
    from ganzoo.loaded import from_file

    path = Path(path)
    if rundir.is_hub_folder(path):  # `ganzoo export --format hub`: its one generator, no run around it
        import json

        try:
            doc = json.loads((path / rundir.HUB_CONFIG).read_text())
            averaged = "moving average" in str(doc.get("weights", ""))
        except (OSError, ValueError, AttributeError):
            averaged = False
        g = from_file(path / rundir.HUB_MODEL, device=device, manager=manager, ema=averaged)
    elif path.is_dir():
        if not (path / rundir.GENERATOR).is_file() and not (path / rundir.CONFIG).is_file():
            raise RunDirError(f"{path} is not a ganzoo run directory: it has no {rundir.GENERATOR}.")
        g = Run.open(path).load_generator(device=device, ema=ema, manager=manager)
    else:
        g = from_file(path, device=device, manager=manager, ema=path.name == rundir.GENERATOR_EMA)
    _check_finite(g, path)
    return g


def _check_finite(g: LoadedGenerator, path: Path) -> None:
    """Refuse weights that are NaN or infinite: they can only draw blank or garbage samples."""
    bad = [
        name for name, t in g.module.state_dict().items() if t.is_floating_point() and not t.isfinite().all()
    ]
    if bad:
        raise RunDirError(
            f"{path} holds a generator whose weights are NaN or infinite ({len(bad)} of its tensors, "
            f"{bad[0]} first), so it cannot sample; resume or retrain the run from a good checkpoint."
        )


def generate(
    run: Path,
    n: int = 64,
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
) -> Path:
    """Write ``n`` samples as a PNG grid, a ``.safetensors`` file (tensor ``samples``) or a folder of PNGs.

    ``nice`` draws ``nice_factor``×n samples and keeps the n the run's discriminator rates most real
    (source 000). Sequences go to a PNG as curves (``smooth``: source 004's rolling mean).
    ``interpolate`` makes ``n`` rows of ``steps`` samples, each row a walk through the latent space
    between two random points (slerp for a normal prior).

    A conditional run's generator makes the class ``cls`` (a name or a number), or ``per_class``
    samples of every class, one row each (instead of ``n``); by default one class a row, as the
    training grids. The ``.safetensors`` file then holds each sample's class in tensor ``labels``
    and the class names in its metadata; ``nice`` ranks each sample among its own class's.
    """

    import torch

    from ganzoo.sampling import grid_columns

    if per_class is not None and per_class <= 0:
        raise UsageError(f"--per-class must be a positive whole number, got {per_class}.")
    if per_class is not None and cls is not None:
        raise UsageError("--per-class draws every class; give it or --class, not both.")
    if per_class is not None and interpolate:
        raise UsageError("--per-class sets how many samples (N of every class); drop -n and --interpolate.")
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
    if smooth < 0:
        raise UsageError(f"--smooth must be a whole number of points, 0 (none) or more, got {smooth}.")
    # What -o asks for is checked before the generator is loaded and sampled.
    is_dir = out is not None and (
        str(out).endswith(("/", "\\")) or Path(out).is_dir() or not Path(out).suffix
    )
    if out is not None and not is_dir and Path(out).suffix.lower() not in (".png", ".safetensors"):
        raise UsageError(f"-o {out}: give a .png grid, a .safetensors file, or a folder.")
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
        samples = g.interpolate(n, steps, seed=seed, labels=labels)
        labels = None if labels is None else labels.repeat_interleave(steps)
    elif nice:
        samples = _nice(g, Path(run), n, seed, manager or get_manager(), nice_factor, labels)
    else:
        samples = g.sample(n, seed=seed, labels=labels)
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
        return _write_samples(Path(out), samples, g, is_dir, columns, smooth, labels, seed)


def _write_samples(
    out: Path,
    samples: Any,
    g: LoadedGenerator,
    is_dir: bool,
    columns: int | None,
    smooth: int,
    labels: Any,
    seed: int | None,
) -> Path:
    """Samples to ``out``: a folder of PNGs, a PNG grid (or curves), or a .safetensors file."""
    import json

    from ganzoo.sampling import save_grid

    if is_dir:
        out.mkdir(parents=True, exist_ok=True)
        for i, image in enumerate(samples):
            save_grid(image.unsqueeze(0), out / f"{i:06d}.png")
    elif out.suffix.lower() == ".png":
        if g.spec.modality == "image":
            save_grid(samples, out, columns=columns)
        else:
            from ganzoo.plots import plot_curves

            plot_curves(samples, None, out, smooth=smooth)
    else:  # .safetensors, as checked above
        from safetensors.torch import save_file

        from ganzoo.files import atomic_path

        tensors = {"samples": samples.contiguous()}
        metadata = {"generator": g.config.generator, "seed": str(seed)}
        if labels is not None:  # each sample's class, and the names of the classes
            tensors["labels"] = labels.cpu().contiguous()
            metadata["classes"] = json.dumps(list(g.classes))
        with atomic_path(out) as tmp:
            save_file(tensors, str(tmp), metadata=metadata)
    return out


def _check_samples_fit(g: LoadedGenerator, n: int, each: int, interpolate: bool, nice: bool) -> None:
    """Refuse ``n`` (times ``each``: --steps or --nice-factor) samples that cannot fit in memory."""
    import torch

    from ganzoo import memory

    one = memory.sample_bytes(g.spec.shape)
    # The generator's activations for a sample, the sample, its copy in [0, 1] and in a PNG grid.
    labels = [] if not g.classes else [torch.zeros(2, dtype=torch.long, device=g.device)]
    per = memory.activation_bytes(g.module, torch.zeros(2, g.latent_dim, device=g.device), *labels) + 3 * one
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
        candidates = g.sample(factor * n, seed=seed)
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
        z = noise(g.config.train.prior, factor * k, g.latent_dim, gen, g.device)
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


def evaluate(
    run: Path,
    n: int = 10_000,
    seed: int = 0,
    device: str | None = None,
    batch_size: int = 500,
    inception_weights: Path | None = None,
    ema: bool = True,
    data_dir: Path | None = None,
    manager: PluginManager | None = None,
) -> dict[str, Any]:
    """``ganzoo eval``: the run's generator measured against its dataset's test split.

    Returns ``{"run", "dataset", "generator", "protocol", "metrics", "labels"}``; see docs/metrics.md.
    """
    from ganzoo import build
    from ganzoo.evaluate import Evaluator

    manager = manager or get_manager()
    settings.check("seed", seed, "--seed")
    g = load_generator(run, device=sampling_device(device), manager=manager, ema=ema)
    config = g.config
    if data_dir is None and g.record.data_dir:
        data_dir = Path(g.record.data_dir)
    dataset = build.component(manager, "dataset", config.dataset, record=g.record)
    ds = build.build_dataset(dataset, config, data_dir)
    evaluator = Evaluator(ds, config.dataset, g.device, n, batch_size, seed, inception_weights)
    figures = evaluator.evaluate_generator(
        g.module.eval(), config.train.prior, config.train.latent_dim, len(g.classes)
    )
    result = {
        "run": str(run),
        "dataset": config.dataset,
        "generator": "moving average (--ema)" if g.ema else "final weights",
        "protocol": evaluator.protocol(),
        "metrics": figures,
        "labels": evaluator.labels(figures),
    }
    _keep_eval(Path(run), result)
    return result


def _keep_eval(run: Path, result: dict[str, Any]) -> None:
    """Keep an evaluation of a run directory as RUN/eval.json (``ganzoo compare`` and ``show`` read
    it), with the step it measured; a run folder that cannot be written keeps none, silently."""
    import json

    from ganzoo.files import atomic_write_text

    if not run.is_dir() or rundir.is_hub_folder(run) or not (run / rundir.CONFIG).is_file():
        return
    doc = {**result, "steps": Run(run).steps}
    # A read-only copy of someone's run keeps none, nor does a run another process is training (its
    # lock is held: eval.json would be stale at its next step): the figures are printed all the same.
    with runlock.writing(run) as mine, contextlib.suppress(OSError):
        if mine:
            atomic_write_text(run / rundir.EVAL, json.dumps(doc, indent=2) + "\n")


def data_status(manager: PluginManager | None = None, data_dir: Path | None = None) -> list[dict[str, Any]]:
    """Where each registered dataset is (or would be) cached, and whether its files are present."""
    manager = manager or get_manager()
    rows = []
    for entry in manager.registry.entries("dataset"):
        try:
            ds = entry.load()(data_dir)
            status = ds.status()
            rows.append(
                {
                    "name": entry.name,
                    "present": status.present,
                    "where": status.where,
                    "dist": entry.plugin.dist,
                }
            )
        except Exception as exc:  # one broken dataset plugin must not hide the rest
            rows.append(
                {"name": entry.name, "present": False, "where": f"error: {exc}", "dist": entry.plugin.dist}
            )
    return rows


def data_fetch(name: str, data_dir: Path | None = None, manager: PluginManager | None = None) -> str:
    """Make a dataset available offline; returns where its files are."""
    from ganzoo import build

    ds = build.lookup(manager or get_manager(), "dataset", name)(data_dir)
    return str(ds.fetch())


def show(run: Path) -> dict[str, Any]:
    """What a run is and how far it got, from its files alone (no torch): ``ganzoo show``'s content."""

    r = Run.open(Path(run))
    record, path = r.record, r.path
    lines, skipped = rundir.read_log_counted(r.file(rundir.LOG))
    logged = [row for row in lines if "g_loss" in row]
    evals = [row for row in lines if isinstance(row.get("eval"), dict)]
    result = record.result
    damage, fix = _damage(r)
    seconds = result.seconds if result else (logged[-1].get("time") if logged else None)
    grids = sorted(r.file(rundir.SAMPLES).glob("step-*.png"))
    config = record.config
    summary: dict[str, Any] = {
        "run_dir": str(path),
        "status": "damaged" if damage else "finished" if result else "unfinished",
        "recipe": config.recipe,
        "generator": config.generator,
        "discriminator": config.discriminator,
        "dataset": config.dataset,
        "loss": config.loss,
        "data": {"shape": list(record.data.shape), "size": record.data_size},
        "conditional": list(record.data.classes) if config.train.conditional else None,
        "seed": record.seed,
        "device": record.device,
        "world_size": record.world_size,
        "streamed": record.streamed,
        "steps": r.steps,
        "iterations": record.iterations,
        "seconds": seconds if _is_number(seconds) else None,
        "created": record.created,
        "last": {k: v for k, v in r.last.items() if _is_number(v)},  # a damaged log line may hold text
        **_last_eval(r, result, evals),
        "latest_grid": str(grids[-1]) if grids else None,
        "files": {
            p.relative_to(path).as_posix(): p.stat().st_size
            for p in sorted(path.rglob("*"))
            if p.is_file() and not p.name.startswith(".")
        },
    }
    if damage:
        summary["damage"], summary["fix"] = damage, fix
    if skipped:
        summary["log_skipped"] = skipped
    if not result and not damage:
        summary["resume"] = f"ganzoo train --resume {path}"
    return summary


def _last_eval(r: Run, result: Any, evals: list[dict[str, Any]]) -> dict[str, Any]:
    """A run's latest eval figures and how they were measured (``eval``, ``eval_by``): ``ganzoo eval
    RUN``'s (eval.json) when it measured the run as far as it got, else the last of ``--eval-every``'s."""
    import json

    trained = (result.eval if result else None) or (evals[-1]["eval"] if evals else None)
    during = {
        "eval": trained,
        "eval_by": f"--eval-every, {r.record.config.train.eval_n} samples" if trained else None,
    }
    try:
        kept = json.loads(r.file(rundir.EVAL).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return during
    if not isinstance(kept, dict) or not isinstance(kept.get("metrics"), dict):
        return during
    if trained is not None and kept.get("steps") != r.steps:  # measured before the run went on
        return during
    protocol: dict[str, Any] = kept["protocol"] if isinstance(kept.get("protocol"), dict) else {}
    samples, seed = protocol.get("samples"), protocol.get("seed")
    by = f"ganzoo eval, {samples} samples, seed {seed}, {kept.get('generator')}"
    return {"eval": dict(kept["metrics"]), "eval_by": by}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _damage(r: Run) -> tuple[str | None, str]:
    """Why a run's files cannot do their job, and what to do, for ``ganzoo show``'s status; cheap, no torch.

    A finished run needs whole final weights: a copy or a full disk that cut generator.safetensors
    short would fail only at ``ganzoo generate``, so show reads each file's header and compares
    the byte ranges it declares with the file's size. An unfinished run needs a whole checkpoint.
    """
    from ganzoo.files import damage

    checkpoint = r.file(rundir.CHECKPOINT)
    if r.result is None:
        why = damage(checkpoint) if checkpoint.is_file() else None
        return why, "It cannot be resumed; train the run again."
    roles = [rundir.GENERATOR, rundir.DISCRIMINATOR]
    if r.file(rundir.GENERATOR_EMA).exists():
        roles.insert(1, rundir.GENERATOR_EMA)
    for name in roles:
        path = r.file(name)
        why = damage(path) if path.is_file() else f"{path} is missing."
        if why:
            if checkpoint.is_file() and damage(checkpoint) is None:
                resume = f"ganzoo train --resume {r.path}"
                return why, f"Rewrite the final weights from its checkpoint with `{resume}`."
            return why, "Its checkpoint cannot rebuild them; train the run again."
    return None, ""
