"""ganzoo's Python API; the command line is a thin layer over these functions."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ganzoo.errors import RunDirError, UsageError
from ganzoo.manager import PluginManager, get_manager
from ganzoo.progress import Progress
from ganzoo.resolve import Request, sampling_device
from ganzoo.rundir import Run
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
        names = {
            "arch": arch,
            "dataset": dataset,
            "generator": generator,
            "discriminator": discriminator,
            "loss": loss,
            "recipe": recipe,
        }
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
    from ganzoo import rundir
    from ganzoo.loaded import from_file

    path = Path(path)
    if path.is_dir():
        if not (path / rundir.GENERATOR).is_file() and not (path / rundir.CONFIG).is_file():
            raise RunDirError(f"{path} is not a ganzoo run directory: it has no {rundir.GENERATOR}.")
        return Run.open(path).load_generator(device=device, ema=ema, manager=manager)
    return from_file(path, device=device, manager=manager, ema=path.name == rundir.GENERATOR_EMA)


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
) -> Path:
    """Write ``n`` samples as a PNG grid, a ``.safetensors`` file (tensor ``samples``) or a folder of PNGs.

    ``nice`` draws ``nice_factor``×n samples and keeps the n the run's discriminator rates most real
    (source 000). Sequences go to a PNG as curves (``smooth``: source 004's rolling mean).
    ``interpolate`` makes ``n`` rows of ``steps`` samples, each row a walk through the latent space
    between two random points (slerp for a normal prior).
    """
    from ganzoo.sampling import save_grid

    if n <= 0:
        raise UsageError(f"-n must be a positive whole number, got {n}.")
    if nice and nice_factor < 1:
        raise UsageError(f"--nice-factor must be at least 1, got {nice_factor}.")
    if interpolate and nice:
        raise UsageError("--interpolate takes --steps of at least 2 and does not go with --nice.")
    if interpolate and steps < 2:
        raise UsageError(f"--steps must be at least 2 (the two ends of each walk), got {steps}.")
    g = load_generator(run, device=sampling_device(device), manager=manager)
    if interpolate and g.spec.modality != "image":
        raise UsageError("--interpolate draws a grid of images; this generator makes sequences.")
    if interpolate:
        samples = g.interpolate(n, steps, seed=seed)
    elif nice:
        samples = _nice(g, Path(run), n, seed, manager or get_manager(), nice_factor)
    else:
        samples = g.sample(n, seed=seed)
    samples = samples.cpu()
    run_path = Path(run)
    if out is None:
        base = run_path if run_path.is_dir() else run_path.parent
        what = "interpolation" if interpolate else "generated"
        out = base / "samples" / f"{what}-seed{seed if seed is not None else 'random'}.png"
    is_dir = str(out).endswith(("/", "\\")) or Path(out).is_dir() or not Path(out).suffix
    out = Path(out)
    if is_dir:
        if g.spec.modality != "image":
            raise UsageError("A folder of PNGs needs image samples; use a .safetensors file for sequences.")
        out.mkdir(parents=True, exist_ok=True)
        for i, image in enumerate(samples):
            save_grid(image.unsqueeze(0), out / f"{i:06d}.png")
    elif out.suffix.lower() == ".png":
        if g.spec.modality == "image":
            save_grid(samples, out, columns=steps if interpolate else None)
        else:
            from ganzoo.plots import plot_curves

            plot_curves(samples, None, out, smooth=smooth)
    elif out.suffix.lower() == ".safetensors":
        from safetensors.torch import save_file

        from ganzoo.files import atomic_path

        with atomic_path(out) as tmp:
            save_file(
                {"samples": samples.contiguous()},
                str(tmp),
                metadata={"generator": g.config.generator, "seed": str(seed)},
            )
    else:
        raise UsageError(f"-o {out}: give a .png grid, a .safetensors file, or a folder.")
    return out


def _nice(
    g: LoadedGenerator, run: Path, n: int, seed: int | None, manager: PluginManager, factor: int
) -> Any:
    """The ``n`` of ``factor``·n samples the run's discriminator rates most real."""
    from ganzoo import build, checkpoint
    from ganzoo.record import RunRecord
    from ganzoo.sampling import rescale

    path = Run.open(run if run.is_dir() else run.parent).weights("discriminator")
    tensors, doc = checkpoint.load_weights(path, "discriminator")
    config = RunRecord.from_json(doc).config
    config.discriminator = doc.get("components", {}).get("discriminator", config.discriminator)
    c = build.component(manager, "discriminator", config.discriminator)
    d = build.build_discriminator(c, config, g.spec).to(g.device)
    d.load_state_dict(tensors)
    d.eval()
    candidates = g.sample(factor * n, seed=seed)
    sample_range = (0.0, 1.0) if g.spec.modality == "image" else g.spec.value_range
    out_range = type(g.module).output_range()
    return top_scored(candidates, lambda x: d(rescale(x, sample_range, out_range)), n)


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
    g = load_generator(run, device=sampling_device(device), manager=manager, ema=ema)
    config = g.config
    if data_dir is None and g.record.data_dir:
        data_dir = Path(g.record.data_dir)
    ds = build.build_dataset(build.component(manager, "dataset", config.dataset), config, data_dir)
    evaluator = Evaluator(ds, config.dataset, g.device, n, batch_size, seed, inception_weights)
    figures = evaluator.evaluate_generator(g.module.eval(), config.train.prior, config.train.latent_dim)
    return {
        "run": str(run),
        "dataset": config.dataset,
        "generator": "moving average (--ema)" if g.ema else "final weights",
        "protocol": evaluator.protocol(),
        "metrics": figures,
        "labels": evaluator.labels(figures),
    }


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
    from ganzoo import rundir

    r = Run.open(Path(run))
    record, path = r.record, r.path
    lines = r.metrics()
    logged = [row for row in lines if "g_loss" in row]
    evals = [row for row in lines if "eval" in row]
    result = record.result
    grids = sorted(r.file(rundir.SAMPLES).glob("step-*.png"))
    config = record.config
    summary: dict[str, Any] = {
        "run_dir": str(path),
        "status": "finished" if result else "unfinished",
        "recipe": config.recipe,
        "generator": config.generator,
        "discriminator": config.discriminator,
        "dataset": config.dataset,
        "loss": config.loss,
        "data": {"shape": list(record.data.shape), "size": record.data_size},
        "seed": record.seed,
        "device": record.device,
        "world_size": record.world_size,
        "steps": r.steps,
        "iterations": record.iterations,
        "seconds": result.seconds if result else (logged[-1].get("time") if logged else None),
        "created": record.created,
        "last": r.last,
        "eval": (result.eval if result else None) or (evals[-1]["eval"] if evals else None),
        "latest_grid": str(grids[-1]) if grids else None,
        "files": {
            p.relative_to(path).as_posix(): p.stat().st_size
            for p in sorted(path.rglob("*"))
            if p.is_file() and not p.name.startswith(".")
        },
    }
    if not result:
        summary["resume"] = f"ganzoo train --resume {path}"
    return summary
