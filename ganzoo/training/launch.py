"""A planned run made real: the device and process group, the data, the networks, the run's frozen
:class:`~ganzoo.training.assemble.Setup` and the trainer with its reporters (:func:`build`), then
training and the final files (:func:`execute`).

Everything that can be refused is refused in :func:`build`, before the run directory exists.
"""

from __future__ import annotations

import os
import platform
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ganzoo import distributed, memory, rundir
from ganzoo.build import (
    build_dataset,
    build_loss,
    build_networks,
    check_conditional,
    check_labels,
    check_serves,
    check_values,
    component,
    components_for,
)
from ganzoo.components import DataSpec
from ganzoo.errors import DataError, GanzooError, PluginError, RunDirError, TrainingError, UsageError
from ganzoo.manager import PluginManager
from ganzoo.planning import Plan, checkpoint_step
from ganzoo.progress import PlainProgress, Progress
from ganzoo.record import RunRecord
from ganzoo.rundir import Run
from ganzoo.runlock import LOCK, OWNER, RunLock
from ganzoo.settings import KINDS, TrainSettings
from ganzoo.training import reporters as built_in
from ganzoo.training import state as checkpoints
from ganzoo.training.assemble import Setup, assemble
from ganzoo.training.loop import Trainer
from ganzoo.training.reporters import Reporter
from ganzoo.training.step import ORDERS


@dataclass
class Launch:
    """A run ready to train: its plan, record, trainer and (under torchrun) process group."""

    plan: Plan
    record: RunRecord
    trainer: Trainer
    group: distributed.Group

    @property
    def main(self) -> bool:
        return self.group.main


def new_seed() -> int:
    return int.from_bytes(os.urandom(4), "little") & 0x7FFFFFFF


def build(
    plan: Plan,
    manager: PluginManager,
    progress: Progress | None = None,
    reporters: Sequence[Reporter] = (),
) -> Launch:
    """Devices, data, networks, trainer and reporters for ``plan``; nothing is written yet."""
    from ganzoo import threads as ganzoo_threads
    from ganzoo.devices import configure_cuda, resolve_device, set_cpu_threads
    from ganzoo.training.engine import resolve_precision

    config, s = plan.config, plan.config.train
    device = resolve_device(s.device)
    s.precision = resolve_precision(s.precision, device)  # what the record says the run trained in
    if s.deterministic is None:  # a seeded run means a repeatable one
        s.deterministic = s.seed is not None
    configure_cuda(device, s.precision, s.deterministic)
    threads = set_cpu_threads(s.threads)
    progress = progress or PlainProgress()
    group = distributed.setup(device)
    if group.shared:
        device = distributed.rank_device(device)
        if s.on_nan == "skip":
            raise UsageError("--on-nan skip is not supported under torchrun; use the default, stop.")
        if not group.main:
            progress = PlainProgress(quiet=True)
        if not plan.resume:  # one run directory and one seed for all ranks: rank 0's
            shared: list[Any] = [str(plan.run.path), s.seed if s.seed is not None else new_seed()]
            import torch.distributed as dist

            dist.broadcast_object_list(shared, src=0)
            plan.run, s.seed = Run(Path(shared[0])), int(shared[1])
    main = group.main
    for note in plan.notes:  # how the request was read (rank 0's progress speaks; the others are quiet)
        progress.note(note)
    parts = components_for(manager, config, plan.record)  # the record: what an unknown name was
    ds = build_dataset(parts.dataset, config, plan.data_dir)
    spec = ds.spec()
    check_serves(parts.generator, spec)
    check_serves(parts.discriminator, spec)
    check_conditional(parts, config, spec)  # before the data loads
    if s.conditional and s.eval_every is not None:
        from ganzoo.evaluate import check_class_samples

        check_class_samples(s.eval_n, len(spec.classes), "--set eval_n=")
    loss = build_loss(parts.loss, config)
    if loss.pairwise and not ORDERS[s.d_update].both_batches:
        raise UsageError(
            f"The loss '{config.loss}' compares real and fake logits together, so it cannot train with "
            f"d_update={s.d_update} (one update per batch); add --set d_update=joint (or concat, mixed)."
        )
    real = ds.load("train")  # fetches on first use; fails before any file is written
    n_real = len(real)  # type: ignore[arg-type]  # a tensor, or a map-style dataset streamed from disk
    if n_real == 0:
        raise DataError(
            f"The dataset '{config.dataset}' holds no samples in its train split; nothing to train on."
        )
    check_values(real, spec, config.dataset)  # values outside value_range would train silently
    labels = check_labels(ds, spec, config.dataset, int(n_real)) if s.conditional and spec.classes else None
    evaluator = None
    if s.eval_every is not None and main:  # no extractor for the data: say so before training
        from ganzoo.evaluate import Evaluator

        evaluator = Evaluator(ds, config.dataset, device, s.eval_n)
    if plan.record is not None:
        record = plan.resumed_record()
        record.data_dir = _data_dir_used(ds, plan.data_dir)
        if s.conditional and spec.classes != record.data.classes:  # a label would mean another class
            then, now = ", ".join(record.data.classes)[:200], ", ".join(spec.classes)[:200] or "none"
            raise RunDirError(
                f"{plan.run.path} was trained on the classes {then} of '{config.dataset}', but the "
                f"dataset found now has {now}; resume with --data-dir pointing at the original files."
            )
        if record.data_size != n_real:
            raise RunDirError(
                f"{plan.run.path} was trained on {record.data_size} samples of '{config.dataset}', but the "
                f"dataset found now holds {n_real}; resume with --data-dir pointing at the original files."
            )
    else:
        record = RunRecord(
            config=config,
            seed=s.seed if s.seed is not None else new_seed(),
            device=str(device),
            world_size=group.world,
            data=spec,
            data_size=int(n_real),
            data_dir=_data_dir_used(ds, plan.data_dir),
            components={k: manager.registry.get(k, getattr(config, k)).qualified for k in KINDS},
            versions=versions(manager),
            created=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            run_dir=str(plan.run.path),
            iterations=0,
            cpu_threads={"count": threads, "openmp": ganzoo_threads.decision},
            streamed=not isinstance(real, torch.Tensor),
        )
    torch.manual_seed(record.seed)
    g, d = build_networks(parts, config, spec)
    if plan.init is not None and not plan.resume:  # fine-tuning: weights from a trained run
        record.init = start_from(plan.init, g, d, manager)
    check_sizes(s, g, d, spec, device, int(n_real))
    everyone: list[Reporter] = [built_in.ProgressReporter(progress)]
    if main:
        everyone += [built_in.LogFile(), built_in.SampleGrids(), built_in.Animation(), built_in.LossCurves()]
        if s.tensorboard:
            everyone.append(built_in.TensorBoard())
        if evaluator is not None:
            everyone.append(built_in.PeriodicEval(evaluator))
        if s.tracker:  # after the grids: a tracker logs each grid once it is written
            from ganzoo.training.trackers import make_tracker

            everyone += [make_tracker(name) for name in dict.fromkeys(s.tracker)]
        everyone += [_plugin_reporter(manager, name) for name in s.report]
        everyone += list(reporters)
    # Built before the run directory: what the trainer's parts refuse (a data shape, --sync-bn on
    # the CPU, channels-last sequences, freeze_d past D's layers) leaves nothing behind.
    setup = Setup(config, spec, device, record.seed, group)  # settled: the trainer branches on values
    trainer = Trainer(setup, assemble(setup, g, d, loss, real, labels), plan.run, everyone, evaluator)
    # The trainer keeps its own copy in the generator's range; the dataset object caches the
    # loaded one (188 MB of float32 for MNIST): let it go (an evaluator holds its own reference).
    del real, ds
    record.iterations = trainer.iterations
    return Launch(plan, record, trainer, group)


def _data_dir_used(ds: Any, data_dir: Path | None) -> str | None:
    """``data_dir`` resolved, unless the dataset says it found its files elsewhere (the cache it fell
    back to, with a warning, when the folder did not hold them)."""
    if data_dir is None:
        return None
    folder = Path(data_dir).resolve()
    status = ds.status()
    where = Path(status.where)
    if status.present and where.exists() and folder not in (where.resolve(), *where.resolve().parents):
        return None
    return str(folder)


def check_sizes(
    s: TrainSettings,
    g: torch.nn.Module,
    d: torch.nn.Module,
    spec: DataSpec,
    device: torch.device,
    n_real: int,
) -> None:
    """Refuse a batch or a sample grid that cannot fit, before the trainer allocates either."""
    if s.batch_size > n_real:
        raise UsageError(
            f"--batch-size {s.batch_size} is more than the {n_real:,} samples the dataset holds; "
            f"give at most {n_real}."
        )
    one = memory.sample_bytes(spec.shape)
    labels = (torch.zeros(2, dtype=torch.long),) if s.conditional else ()
    g_act = memory.activation_bytes(g, torch.zeros(2, s.latent_dim), *labels)
    d_act = memory.activation_bytes(d, torch.zeros(2, *spec.shape), *labels)
    weights = sum(p.numel() for net in (g, d) for p in net.parameters()) * 4
    # A step keeps G's activations and D's for the real and the fake batch, then their gradients
    # (three times covers R1's double backward); the weights have gradients, Adam's two moments
    # and an EMA copy beside them.
    memory.check_fits(
        f"--batch-size {s.batch_size}", s.batch_size, 3 * (g_act + 2 * d_act) + one, device, fixed=5 * weights
    )
    per_sample = memory.sampling_bytes(g, s.latent_dim, spec.shape, s.conditional, "cpu")
    memory.check_fits(f"--set samples={s.samples} (the sample grid)", s.samples, per_sample, device)


def start_from(
    source: Path | str, g: torch.nn.Module, d: torch.nn.Module, manager: PluginManager
) -> dict[str, Any]:
    """Load G (its moving average when the source kept one) and D (when the source has one) from a
    run directory, hub folder or pretrained generator; what the record says of it. Every layer must
    match, name and shape, or the one that does not is named in a sentence."""
    from ganzoo import checkpoint
    from ganzoo.pretrained import resolve

    folder = resolve(source, manager)
    if rundir.is_hub_folder(folder):
        g_file = folder / rundir.HUB_MODEL
    elif folder.is_dir() and (folder / rundir.GENERATOR).is_file():
        ema = folder / rundir.GENERATOR_EMA
        g_file = ema if ema.is_file() else folder / rundir.GENERATOR
    else:
        raise UsageError(
            f"--init {source}: not a finished run, a hub folder or a pretrained generator (no "
            f"{rundir.GENERATOR} or {rundir.HUB_MODEL} there)."
        )
    d_path = folder / rundir.DISCRIMINATOR
    d_file = d_path if d_path.is_file() else None  # a generator alone: D starts fresh
    for role, net, path in (("generator", g, g_file), ("discriminator", d, d_file)):
        if path is not None:
            tensors, _ = checkpoint.load_weights(path, role)
            _load_matching(net, tensors, role, source)
    return {
        "from": str(source),
        "path": str(folder),
        "generator": g_file.name,
        "discriminator": d_file.name if d_file is not None else None,
    }


def _load_matching(net: torch.nn.Module, tensors: dict[str, torch.Tensor], role: str, source: Any) -> None:
    mine = net.state_dict()
    fix = "--init needs the same architecture and sizes (the hyperparameters it was trained with)"
    for key, value in mine.items():
        if key not in tensors:
            raise UsageError(f"--init {source}: its {role} has no {key}, which this run's has; {fix}.")
        if tuple(tensors[key].shape) != tuple(value.shape):
            there, here = "x".join(map(str, tensors[key].shape)), "x".join(map(str, value.shape))
            raise UsageError(f"--init {source}: the {role}'s {key} is {there} there but {here} here; {fix}.")
    extra = sorted(set(tensors) - set(mine))
    if extra:
        raise UsageError(f"--init {source}: its {role} has {extra[0]}, which this run's has not; {fix}.")
    net.load_state_dict({k: tensors[k].to(v.dtype) for k, v in mine.items()})


def _plugin_reporter(manager: PluginManager, name: str) -> Reporter:
    c = component(manager, "reporter", name, base=Reporter)
    try:
        reporter: Reporter = c.cls()
    except Exception as exc:  # a plugin's constructor can fail in any way
        raise PluginError(
            f"Building the reporter '{c.name}' ({c.origin}) failed: {type(exc).__name__}: {exc}."
        ) from exc
    return reporter


def execute(launch: Launch) -> Run:
    """Train, then write the final weights and the record with its result; returns the run.

    Rank 0 holds the run's write lock throughout (ganzoo.runlock). A new run whose start fails
    before its first checkpoint (out of memory, a full disk) takes its folder with it, so trying
    again needs no --force; a run that diverged keeps its log and grids to look at.
    """
    run = launch.plan.run
    if not launch.main:
        return _train(launch)
    created = not run.path.exists()
    try:
        run.path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--out {run.path} cannot be created: {exc.strerror or exc}.") from exc
    try:
        with RunLock(run.path):
            _check_still_as_planned(launch.plan)
            try:
                return _train(launch)
            except BaseException as exc:
                if not launch.plan.resume and not isinstance(exc, TrainingError):
                    _remove_unstarted(run, created)
                raise
    except BaseException:
        if created and run.path.is_dir() and not any(run.path.iterdir()):
            run.path.rmdir()  # refused by the lock or the checks: leave no empty folder behind
        raise


def _train(launch: Launch) -> Run:
    run, record, trainer = launch.plan.run, launch.record, launch.trainer
    if launch.plan.resume:  # a checkpoint that cannot be loaded leaves config.json as it was
        trainer.restore()
    if launch.main:
        run.write_record(record)
    try:
        result = trainer.fit(resume=launch.plan.resume)
        if launch.main:
            record.result = result
            checkpoints.write_final_weights(trainer.state, run, record)
            run.write_record(record)
            trainer.reporters.call("on_run_saved", trainer, run.path)
    except GanzooError:  # raised on every rank at the same step (the ranks agree on stops)
        if launch.group.shared:
            distributed.finish()
        raise
    # Any other error leaves the group alone: the other ranks may be waiting in a collective,
    # and torchrun stops them when this process exits.
    if launch.group.shared:
        distributed.finish()
    return Run(run.path)


def _check_still_as_planned(plan: Plan) -> None:
    """Under the lock, what the plan saw must still hold: another process may have written since."""
    run = plan.run
    if plan.resume:
        if checkpoint_step(run.file(rundir.CHECKPOINT)) != plan.step:
            raise RunDirError(
                f"{run.path} was written by another process while this one was starting; "
                f"run `ganzoo train --resume {run.path}` again."
            )
    elif not plan.force and any(p.name not in (LOCK, OWNER) for p in run.path.iterdir()):
        raise UsageError(
            f"--out {run.path} was filled by another process while this one was starting; "
            "choose another, or add --force."
        )


def _remove_unstarted(run: Run, created: bool) -> None:
    """Remove what a new run wrote when it failed before its first checkpoint."""
    if run.file(rundir.CHECKPOINT).exists():
        return
    if created:
        shutil.rmtree(run.path, ignore_errors=True)
        return
    for name in (rundir.CONFIG, rundir.LOG, rundir.SAMPLES, rundir.TENSORBOARD, rundir.CHECKPOINT_DIR):
        path = run.file(name)
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def versions(manager: PluginManager) -> dict[str, Any]:
    """ganzoo's, torch's, Python's and every loaded plugin's version, for the run's record."""
    from ganzoo.version import __version__

    plugins = {p.info.dist: p.info.version for p in manager.plugins if p.status == "ok"}
    return {
        "ganzoo": __version__,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "plugins": plugins,
    }
