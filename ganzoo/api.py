"""ganzoo's Python API; the command line is a thin layer over these functions."""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ganzoo.errors import GanzooError, RunDirError, UsageError
from ganzoo.manager import PluginManager, get_manager
from ganzoo.progress import PlainProgress, Progress
from ganzoo.recipes import RunConfig, resolve
from ganzoo.registry import KINDS

if TYPE_CHECKING:
    from ganzoo.loaded import LoadedGenerator
    from ganzoo.trainer import Run


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


def _versions(manager: PluginManager) -> dict[str, Any]:
    import torch

    from ganzoo import __version__

    plugins = {p.info.dist: p.info.version for p in manager.plugins if p.status == "ok"}
    return {
        "ganzoo": __version__,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "plugins": plugins,
    }


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
    **options: Any,
) -> Run:
    """Train ``arch`` on ``dataset`` (or resume a run) and return the :class:`ganzoo.Run`.

    ``options`` are training settings (iterations, batch_size, lr_g, device, seed, ...) that
    override the recipe; ``sets`` are ``KEY=VALUE`` strings reaching any declared hyperparameter.
    """
    from ganzoo import build, rundir, settings
    from ganzoo.devices import resolve_device, set_cpu_threads
    from ganzoo.trainer import Trainer, new_seed

    manager = manager or get_manager()
    progress = progress or PlainProgress()
    # CLI > environment > the user's config file > recipe > component defaults (ganzoo.settings).
    explicit = {k: v for k, v in options.items() if v is not None}
    if "device" not in explicit and os.environ.get(settings.ENV_DEVICE):
        explicit["device"] = os.environ[settings.ENV_DEVICE]
    options = explicit if resume is not None else {**settings.train_defaults(), **explicit}
    if resume is not None:
        run = rundir.RunDir.open(Path(resume))
        doc = run.config
        config = RunConfig.from_json(doc["run"])
        for key, value in options.items():
            if value is not None and key in ("iterations", "epochs", "device"):
                setattr(config.train, key, value)
        config.train.validate()
        doc["run"] = config.to_json()
        run_dir = run.path
        if data_dir is None and doc.get("data_dir"):
            data_dir = Path(doc["data_dir"])  # the same files the run started on
        if not (run_dir / rundir.CHECKPOINT_DIR / "state.safetensors").is_file():
            raise RunDirError(f"{run_dir} has no checkpoint to resume from.")
    else:
        if arch is None or dataset is None:
            raise UsageError("Name an architecture and a dataset, e.g. `ganzoo train vanilla-mlp mnist`.")
        config = resolve(
            arch,
            dataset,
            lambda kind, name: build.lookup(manager, kind, name),
            recipe_name=recipe,
            generator=generator,
            discriminator=discriminator,
            loss=loss,
            options=options,
            sets=sets,
        )
        root = Path(runs_root) if runs_root is not None else settings.runs_root()
        run_dir = Path(out) if out is not None else rundir.default_run_dir(root, arch, dataset)
        if int(os.environ.get("RANK", "0")) == 0:  # under torchrun the other ranks write nothing
            rundir.check_new_run_dir(run_dir, force)
        doc = {}

    device = resolve_device(config.train.device)
    set_cpu_threads()
    from ganzoo import distributed

    group = distributed.setup(device)
    if group is not None:
        device = distributed.rank_device(device)
        if config.train.on_nan == "skip":
            raise UsageError("--on-nan skip is not supported under torchrun; use the default, stop.")
        progress = progress if group.main else PlainProgress(quiet=True)
        if not doc:  # one run directory and one seed for all ranks: rank 0's
            shared: list[Any] = [
                str(run_dir),
                config.train.seed if config.train.seed is not None else new_seed(),
            ]
            import torch.distributed as dist

            dist.broadcast_object_list(shared, src=0)
            run_dir, config.train.seed = Path(shared[0]), int(shared[1])
    classes = build.classes_for(manager, config)
    ds = build.build_dataset(classes, config, data_dir)
    spec = ds.spec()
    classes.generator.check(spec)
    classes.discriminator.check(spec)
    loss_obj = build.build_loss(classes, config)
    real = ds.load("train")  # fetches on first use; fails before any file is written
    evaluator = None
    if config.train.eval_every is not None and (
        group is None or group.main
    ):  # no extractor for the data: say so before training
        from ganzoo.evaluate import Evaluator

        evaluator = Evaluator(ds, config.dataset, device, config.train.eval_n)
    n_real = len(real)  # type: ignore[arg-type]  # a tensor, or a map-style dataset streamed from disk
    if doc and int(doc.get("data_size", n_real)) != n_real:
        raise RunDirError(
            f"{run_dir} was trained on {doc['data_size']} samples of '{config.dataset}', but the dataset "
            f"found now holds {n_real}; resume with --data-dir pointing at the original files."
        )
    if not doc:
        seed = config.train.seed if config.train.seed is not None else new_seed()
        doc = {
            "run": config.to_json(),
            "seed": seed,
            "device": str(device),
            "world_size": group.world if group is not None else 1,
            "data": spec.to_json(),
            "data_size": int(n_real),
            "data_dir": str(Path(data_dir).resolve()) if data_dir is not None else None,
            "components": {
                role: manager.registry.get(role, getattr(config, role)).qualified for role in KINDS
            },
            "versions": _versions(manager),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
    import torch

    torch.manual_seed(int(doc["seed"]))
    g, d = build.build_networks(classes, config, spec)
    doc["run_dir"] = str(run_dir)
    # Built before the run directory: what the trainer refuses (a data shape, --sync-bn on the
    # CPU, channels-last sequences) leaves nothing behind.
    trainer = Trainer(config, g, d, loss_obj, spec, real, device, run_dir, progress, doc, evaluator, group)
    # The trainer keeps its own copy in the generator's range; the dataset object caches the
    # loaded one (188 MB of float32 for MNIST): let it go (an evaluator holds its own reference).
    del real, ds
    try:
        if group is None or group.main:
            run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--out {run_dir} cannot be created: {exc.strerror or exc}.") from exc
    doc["iterations"] = trainer.iterations
    if group is None:
        return trainer.run(resume=resume is not None)
    try:
        result = trainer.run(resume=resume is not None)
    except GanzooError:  # raised on every rank at the same step (the ranks agree on stops)
        distributed.finish()
        raise
    # Any other error leaves the group alone: the other ranks may be waiting in a collective,
    # and torchrun stops them when this process exits.
    distributed.finish()
    return result


def load_generator(
    path: Path, device: str = "cpu", manager: PluginManager | None = None, ema: bool = True
) -> LoadedGenerator:
    """Rebuild the generator of a run directory (or of a generator.safetensors file).

    A run trained with ``--ema`` samples from its moving-average weights unless ``ema`` is False.
    """
    from ganzoo import build, checkpoint, rundir
    from ganzoo.components import DataSpec
    from ganzoo.devices import resolve_device

    path = Path(path)
    if path.is_dir():
        if not (path / rundir.GENERATOR).is_file() and not (path / rundir.CONFIG).is_file():
            raise RunDirError(f"{path} is not a ganzoo run directory: it has no {rundir.GENERATOR}.")
        path = rundir.RunDir.open(path).weights("generator")
        if ema and (path.parent / rundir.GENERATOR_EMA).is_file():
            path = path.parent / rundir.GENERATOR_EMA
    tensors, doc = checkpoint.load_weights(path, "generator")
    manager = manager or get_manager()
    config = RunConfig.from_json(doc["run"])
    config.generator = doc.get("components", {}).get("generator", config.generator)
    spec = DataSpec.from_json(doc["data"])
    g = build.build_generator(build.lookup(manager, "generator", config.generator), config, spec)
    try:
        g.load_state_dict(tensors)
    except RuntimeError as exc:
        raise RunDirError(f"{path} does not fit the generator '{config.generator}' it names.") from exc
    from ganzoo.loaded import LoadedGenerator

    dev = resolve_device(device)
    return LoadedGenerator(g, config, spec, dev, path.name == rundir.GENERATOR_EMA, doc)


def generate(
    run: Path,
    n: int = 64,
    seed: int | None = None,
    out: Path | None = None,
    nice: bool = False,
    device: str = "cpu",
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
    g = load_generator(run, device=device, manager=manager)
    if interpolate and g.spec.kind != "image":
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
        kind = "interpolation" if interpolate else "generated"
        out = base / "samples" / f"{kind}-seed{seed if seed is not None else 'random'}.png"
    is_dir = str(out).endswith(("/", "\\")) or Path(out).is_dir() or not Path(out).suffix
    out = Path(out)
    if is_dir:
        out.mkdir(parents=True, exist_ok=True)
        if g.spec.kind != "image":
            raise UsageError("A folder of PNGs needs image samples; use a .safetensors file for sequences.")
        for i, image in enumerate(samples):
            save_grid(image.unsqueeze(0), out / f"{i:06d}.png")
    elif out.suffix.lower() == ".png":
        if g.spec.kind == "image":
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

    from ganzoo import build, checkpoint, rundir
    from ganzoo.sampling import rescale

    run_dir = rundir.RunDir.open(run if run.is_dir() else run.parent)
    tensors, doc = checkpoint.load_weights(run_dir.weights("discriminator"), "discriminator")
    config = RunConfig.from_json(doc["run"])
    name = doc.get("components", {}).get("discriminator", config.discriminator)
    d_cls = build.lookup(manager, "discriminator", name)
    config.discriminator = name
    d = build.build_discriminator(d_cls, config, g.spec).to(g.device)
    d.load_state_dict(tensors)
    d.eval()
    candidates = g.sample(factor * n, seed=seed)
    sample_range = (0.0, 1.0) if g.spec.kind == "image" else g.spec.value_range
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
    device: str = "cpu",
    batch_size: int = 500,
    inception_weights: Path | None = None,
    ema: bool = True,
    data_dir: Path | None = None,
    manager: PluginManager | None = None,
) -> dict[str, Any]:
    """``ganzoo eval``: the run's generator measured against its dataset's test split.

    Returns ``{"run", "dataset", "generator", "protocol", "metrics"}``; see docs/metrics.md.
    """
    from ganzoo import build
    from ganzoo.evaluate import Evaluator

    manager = manager or get_manager()
    g = load_generator(run, device=device, manager=manager, ema=ema)
    config = g.config
    if data_dir is None and g.doc.get("data_dir"):
        data_dir = Path(g.doc["data_dir"])
    ds = build.build_dataset(build.classes_for(manager, config), config, data_dir)
    evaluator = Evaluator(ds, config.dataset, g.device, n, batch_size, seed, inception_weights)
    figures = evaluator.evaluate_generator(g.module.eval(), config.train.prior, config.train.latent_dim)
    return {
        "run": str(run),
        "dataset": config.dataset,
        "generator": "moving average (--ema)" if g.ema else "final weights",
        "protocol": evaluator.protocol(),
        "metrics": figures,
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

    manager = manager or get_manager()
    ds = build.lookup(manager, "dataset", name)(data_dir)
    return str(ds.fetch())


def show(run: Path) -> dict[str, Any]:
    """What a run is and how far it got, from its files alone (no torch): ``ganzoo show``'s content."""
    from ganzoo import rundir

    rd = rundir.RunDir.open(Path(run))
    doc, path = rd.config, rd.path
    lines = rundir.read_metrics(path / rundir.METRICS)
    logged = [r for r in lines if "g_loss" in r]
    evals = [r for r in lines if "eval" in r]
    result = doc.get("result") or {}
    grids = sorted((path / rundir.SAMPLES).glob("step-*.png"))
    run_cfg = doc["run"]
    summary: dict[str, Any] = {
        "run_dir": str(path),
        "status": "finished" if result else "unfinished",
        "recipe": run_cfg.get("recipe"),
        "generator": run_cfg.get("generator"),
        "discriminator": run_cfg.get("discriminator"),
        "dataset": run_cfg.get("dataset"),
        "loss": run_cfg.get("loss"),
        "data": {"shape": doc.get("data", {}).get("shape"), "size": doc.get("data_size")},
        "seed": doc.get("seed"),
        "device": doc.get("device"),
        "world_size": doc.get("world_size", 1),
        "steps": result.get("steps", logged[-1]["step"] if logged else 0),
        "iterations": doc.get("iterations", run_cfg.get("train", {}).get("iterations")),
        "seconds": result.get("seconds", doc.get("seconds")),
        "created": doc.get("created"),
        "last": result.get("last")
        or ({k: v for k, v in logged[-1].items() if k != "step"} if logged else {}),
        "eval": result.get("eval") or (evals[-1]["eval"] if evals else None),
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
