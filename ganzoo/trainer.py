"""The training loop: k D-steps per G-step on data held as one tensor, with no per-step host sync."""

from __future__ import annotations

import copy
import json
import math
import os
import random
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import torch
from torch import nn

from ganzoo import checkpoint, distributed, rundir
from ganzoo.batches import StreamBatches, TensorBatches
from ganzoo.components import DataSpec, Discriminator, Generator, Loss
from ganzoo.errors import Interrupted, TrainingError, UsageError
from ganzoo.optim import FusedAdam
from ganzoo.progress import Progress
from ganzoo.recipes import RunConfig, TrainSettings
from ganzoo.sampling import eval_mode, grid_shape, noise, rescale, save_grid

if TYPE_CHECKING:
    from ganzoo.evaluate import Evaluator
    from ganzoo.loaded import LoadedGenerator

# Under torchrun the ranks agree whether to stop (a signal) every this many steps.
STOP_EVERY = 10

# --on-nan skip gives up after this many iterations in a row without a finite loss.
SKIP_LIMIT = 20

# Where memory_format=auto turns channels-last on for convolutional networks (see use_channels_last).
CHANNELS_LAST_DEVICES = ("cuda",)

# Order of the figures accumulated on the device between two logged steps.
STATS = ("d_loss_real", "d_loss_fake", "g_loss", "d_real", "d_fake", "d_acc_real", "d_acc_fake")


@dataclass
class Run:
    """A finished (or stopped and resumed) training run: where it lives and how it ended."""

    run_dir: Path
    steps: int
    seconds: float
    last: dict[str, float] = field(default_factory=dict)  # the last logged figures

    @property
    def config(self) -> dict[str, Any]:
        """config.json: the resolved configuration, seed, data, versions and result."""
        doc: dict[str, Any] = json.loads((self.run_dir / rundir.CONFIG).read_text())
        return doc

    def metrics(self) -> list[dict[str, Any]]:
        """metrics.jsonl, one dict per logged step (and per evaluation)."""
        return rundir.read_metrics(self.run_dir / rundir.METRICS)

    def load_generator(self, device: str = "cpu", ema: bool = True) -> LoadedGenerator:
        """The trained generator, ready to ``.sample(n, seed=...)``."""
        from ganzoo.api import load_generator

        return load_generator(self.run_dir, device=device, ema=ema)


def make_optimizer(
    kind: str,
    parameters: Iterator[nn.Parameter],
    lr: float,
    betas: list[float],
    momentum: float,
    nesterov: bool,
) -> torch.optim.Optimizer:
    """Adam, SGD or RMSprop, with the fused kernels where torch has them for the device.

    On the CPU, fused Adam is one vectorised kernel per tensor; foreach falls back to a per-tensor
    loop with more Python around it (measured: 140 µs against 474 µs per step of vanilla-mlp's D).
    """
    params = list(parameters)
    if nesterov and momentum <= 0:
        raise UsageError("Nesterov SGD needs a positive momentum.")

    def build(**speed: bool) -> torch.optim.Optimizer:
        if kind == "adam":
            if speed.get("fused"):  # the same fused Adam, with less Python per step (ganzoo.optim)
                return FusedAdam(params, lr=lr, betas=(betas[0], betas[1]))
            return torch.optim.Adam(params, lr=lr, betas=(betas[0], betas[1]), **speed)
        if kind == "sgd":
            return torch.optim.SGD(params, lr=lr, momentum=momentum, nesterov=nesterov, **speed)
        return torch.optim.RMSprop(params, lr=lr, momentum=momentum, **speed)

    if kind in ("adam", "sgd"):
        try:
            return build(fused=True)
        except (RuntimeError, TypeError, ValueError):  # no fused kernel for this device or torch
            pass
    return build(foreach=True)


def amp_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for ``--precision``, or None for fp32; refuses what the device cannot do."""
    if precision == "fp32":
        return None
    if precision == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise UsageError(
            f"--precision bf16 needs a GPU with bfloat16 support (compute capability 8.0 or newer); "
            f"{torch.cuda.get_device_name(device)} has none: use --precision fp16."
        )
    return torch.bfloat16 if precision == "bf16" else torch.float16


def use_channels_last(memory_format: str, spec: DataSpec, device: torch.device, *nets: nn.Module) -> bool:
    """Whether image batches and conv weights go channels-last (NHWC).

    ``auto`` picks it for convolutional networks on CUDA, where cuDNN's fastest kernels (and the
    tensor cores under bf16/fp16) want NHWC; on the CPU it picks what measured faster.
    """
    if memory_format == "contiguous":
        return False
    if spec.kind != "image" or len(spec.shape) != 3:
        if memory_format == "channels_last":
            raise UsageError("memory_format=channels_last applies to images; this dataset holds sequences.")
        return False
    if memory_format == "channels_last":
        return True
    convs = any(isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)) for net in nets for m in net.modules())
    return convs and device.type in CHANNELS_LAST_DEVICES


@torch.no_grad()
def update_ema(ema: nn.Module, model: nn.Module, decay: float, updates: int | None = None) -> None:
    """ema ← d·ema + (1 - d)·model in one fused call; buffers (BatchNorm statistics) are copied.

    With ``updates`` (the number of G steps so far, this one included) the decay warms up as
    d = min(decay, (1 + updates) / (10 + updates)), as TensorFlow's ExponentialMovingAverage
    does: without it, a 0.999 average of a 500-step run is still 60% the initial weights.
    """
    if updates is not None:
        decay = min(decay, (1 + updates) / (10 + updates))
    torch._foreach_lerp_(list(ema.parameters()), list(model.parameters()), 1.0 - decay)
    for b_ema, b in zip(ema.buffers(), model.buffers(), strict=True):
        b_ema.copy_(b)


def total_iterations(s: TrainSettings, n_data: int) -> int:
    """``--epochs`` wins over ``--iterations``: an epoch is one pass of batch-size draws over the data."""
    if s.epochs is not None:
        return max(1, math.ceil(s.epochs * n_data / s.batch_size))
    return s.iterations


class Trainer:
    """Trains one generator against one discriminator and writes everything into a run directory."""

    def __init__(
        self,
        config: RunConfig,
        generator: Generator,
        discriminator: Discriminator,
        loss: Loss,
        spec: DataSpec,
        real: torch.Tensor | torch.utils.data.Dataset[torch.Tensor],
        device: torch.device,
        run_dir: Path,
        progress: Progress,
        doc: dict[str, Any],
        evaluator: Evaluator | None = None,
        group: distributed.Group | None = None,
    ) -> None:
        self.config, self.s = config, config.train
        self.device, self.run_dir, self.progress, self.doc = device, Path(run_dir), progress, doc
        self.spec = spec
        self.channels_last = use_channels_last(
            config.train.memory_format, spec, device, generator, discriminator
        )
        if config.train.sync_bn and group is not None:
            if device.type != "cuda":
                raise UsageError(
                    "--sync-bn needs CUDA devices: torch's SyncBatchNorm does not run on the CPU."
                )
            generator = nn.SyncBatchNorm.convert_sync_batchnorm(generator)
            discriminator = nn.SyncBatchNorm.convert_sync_batchnorm(discriminator)
        self.G, self.D = generator.to(device), discriminator.to(device)
        if self.channels_last:
            self.G = self.G.to(memory_format=torch.channels_last)
            self.D = self.D.to(memory_format=torch.channels_last)
        self.loss = loss
        self.amp_dtype = amp_dtype(config.train.precision, device)
        # fp16's narrow range needs the losses scaled up (and the gradients back down) to survive.
        self.scaler = torch.amp.GradScaler(device.type) if config.train.precision == "fp16" else None
        self.out_range = type(generator).output_range()
        self.group = group
        self.main = group is None or group.main  # only rank 0 writes the run directory
        # Noise comes from self.rng. Alone, batches come from it too; under torchrun every rank
        # draws the same global batch indices from a shared generator and takes its own share of
        # them (disjoint batches), while its noise stream is its own. The fixed sample noise is shared.
        self.rng = torch.Generator(device=device)
        self.rng.manual_seed(int(doc["seed"]) + (1_000_003 * group.rank if group else 0))
        self.data_rng = self.rng
        if group is not None:
            self.data_rng = torch.Generator(device=device)
            self.data_rng.manual_seed(int(doc["seed"]))
        rank, world = (group.rank, group.world) if group is not None else (0, 1)
        self.batches: TensorBatches | StreamBatches
        if isinstance(real, torch.Tensor):
            if real.ndim < 2 or tuple(real.shape[1:]) != self.spec.shape:
                raise TrainingError(
                    f"The dataset '{config.dataset}' returned samples of shape "
                    f"{tuple(real.shape[1:])}, not the {self.spec.shape} it declares."
                )
            # The data lives on the device once, already in the generator's output range.
            data = rescale(real.to(torch.float32), self.spec.value_range, self.out_range).to(device)
            if self.channels_last:
                data = data.contiguous(memory_format=torch.channels_last)
            self.batches = TensorBatches(data, config.train.data_order, self.data_rng, rank, world)
        else:  # a map-style dataset too large to hold: streamed, each rank with its own sampler seed
            self.batches = StreamBatches(
                real,
                self.spec.value_range,
                self.out_range,
                int(doc["seed"]) + rank,
                device,
                config.train.batch_size,
                self.channels_last,
            )
        self.n = self.batches.n
        # A few real samples to draw beside generated sequences.
        self.real_preview = self.batches.next(min(8, self.n)).detach() if spec.kind == "sequence" else None
        self.iterations = total_iterations(self.s, self.n)
        s = self.s
        self.opt_g = make_optimizer(
            s.optimizer_g, self.G.parameters(), s.lr_g, s.betas_g, s.momentum_g, s.nesterov_g
        )
        self.opt_d = make_optimizer(
            s.optimizer_d, self.D.parameters(), s.lr_d, s.betas_d, s.momentum_d, s.nesterov_d
        )
        fixed = torch.Generator(device=device)
        fixed.manual_seed(int(doc["seed"]) + 1)
        self.fixed_z = noise(s.prior, s.samples, s.latent_dim, fixed, device)
        self.acc = torch.zeros(len(STATS), device=device)
        self.acc_n = 0
        self.step = 0
        self.d_params = list(self.D.parameters())
        self._stop_signal: int | None = None
        # The averaged generator samples and is evaluated; G itself keeps training.
        self.G_ema: Generator | None = None
        # What trains: DistributedDataParallel wrappers under torchrun (they start from rank 0's
        # weights and average gradients during backward), compiled with --compile. self.G and
        # self.D stay the plain modules that are saved, averaged and sampled from.
        self.g_net: Callable[[torch.Tensor], torch.Tensor] = self.G
        self.d_net: Callable[[torch.Tensor], torch.Tensor] = self.D
        if group is not None:
            self.g_net, self.d_net = distributed.wrap(self.G, device), distributed.wrap(self.D, device)
        # G's step runs D frozen, outside DDP (no gradients of D's to reduce).
        self.d_frozen: Callable[[torch.Tensor], torch.Tensor] = self.D
        # A loss's penalty differentiates D's output twice, which torch.compile does not support:
        # it gets D as DDP (or plain), never compiled; typed as the Discriminator it stands for.
        self.d_penalty = cast(Discriminator, self.d_net)
        if s.compile:
            self.g_net, self.d_net = torch.compile(self.g_net), torch.compile(self.d_net)
            self.d_frozen = torch.compile(self.D) if group is not None else self.d_net
        self._compiled_once = not s.compile
        if s.ema is not None:
            self.G_ema = copy.deepcopy(self.G).requires_grad_(False)
        self.evaluator = evaluator
        self.last_eval: dict[str, Any] | None = None
        self.board: Any = None  # a SummaryWriter once the run starts, with --tensorboard
        if s.tensorboard and self.main:
            try:
                from torch.utils.tensorboard import SummaryWriter  # noqa: F401
            except ImportError as exc:
                raise UsageError(
                    "--tensorboard needs the tensorboard package, which is not installed: "
                    "pip install 'ganzoo[tensorboard]' (or pip install tensorboard)."
                ) from exc
        self.skipped = 0  # updates skipped for a non-finite loss (--on-nan skip)
        self._skipped_now = False
        self._skip_run = 0

    # -- one iteration -----------------------------------------------------------------------
    def _z(self, n: int) -> torch.Tensor:
        return noise(self.s.prior, n, self.s.latent_dim, self.rng, self.device)

    def _forward(self, net: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        """One network's forward pass, under autocast with ``--precision bf16|fp16``."""
        if self.amp_dtype is None:
            out: torch.Tensor = net(x)
            return out
        with torch.autocast(self.device.type, dtype=self.amp_dtype):
            out = net(x)
            return out

    def train_step(self) -> None:
        if not self._compiled_once:  # --compile builds its kernels now: a failure is one sentence
            try:
                self._train_step()
            except Exception as exc:
                lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()] or [type(exc).__name__]
                # "backend='inductor' raised:" says little without the line after it
                first = " ".join(lines[:2]) if lines[0].endswith(":") else lines[0]
                first = first[:300]
                raise UsageError(
                    f"--compile failed: torch.compile could not build the networks ({first}); "
                    "train without --compile."
                ) from exc
            self._compiled_once = True
            return
        self._train_step()

    def _train_step(self) -> None:
        s, loss, opt_d = self.s, self.loss, self.opt_d

        def D(x: torch.Tensor) -> torch.Tensor:
            return self._forward(self.d_net, x)

        # Source 003 trains D on one batch that is half real, half fake, and G on a full batch.
        d_batch = s.batch_size // 2 if s.d_update == "mixed" else s.batch_size
        reuse = s.reuse_fake and s.d_update != "mixed"
        fake = torch.empty(0)
        for k in range(s.d_steps):
            real = self.batches.next(d_batch)
            # Keep the graph through G only for the fake batch G's step will reuse.
            with torch.set_grad_enabled(reuse and k == s.d_steps - 1):
                fake = self._forward(self.g_net, self._z(d_batch))
            fake_d = fake.detach()
            if s.d_update == "split":  # source 002: one update on real, then one on fake
                opt_d.zero_grad(set_to_none=True)
                real_logits = D(real)
                l_real = loss.d_real(real_logits)
                self._update(opt_d, l_real)
                opt_d.zero_grad(set_to_none=True)
                fake_logits = D(fake_d)
                l_fake = loss.d_fake(fake_logits)
                # The penalty needs both halves: taken with the second update.
                penalty = loss.penalty(self.d_penalty, real, fake_d)
                self._update(opt_d, l_fake if penalty is None else l_fake + penalty)
            else:
                opt_d.zero_grad(set_to_none=True)
                if s.d_update in ("concat", "mixed"):  # one forward over [real; fake] (sources 000, 003)
                    logits = D(torch.cat([real, fake_d]))
                    real_logits, fake_logits = logits[: real.shape[0]], logits[real.shape[0] :]
                else:  # joint: two forwards, one update on the sum (source 001)
                    real_logits, fake_logits = D(real), D(fake_d)
                l_real, l_fake = loss.d_real(real_logits), loss.d_fake(fake_logits)
                total = l_real + l_fake
                if s.d_update != "joint":
                    total = total * 0.5  # the mean over the concatenated batch
                penalty = loss.penalty(self.d_penalty, real, fake_d)
                if penalty is not None:
                    total = total + penalty
                self._update(opt_d, total)
        if not reuse:
            fake = self._forward(self.g_net, self._z(s.batch_size))
        for p in self.d_params:  # no weight gradients for D during G's step
            p.requires_grad_(False)
        g_logits = self._forward(self.d_frozen, fake)
        l_g = loss.g(g_logits)
        self.opt_g.zero_grad(set_to_none=True)
        self._update(self.opt_g, l_g)
        for p in self.d_params:
            p.requires_grad_(True)
        if self.G_ema is not None and s.ema is not None:
            update_ema(self.G_ema, self.G, s.ema, self.step + 1)
        if self._skipped_now:  # --on-nan skip: this iteration's figures would be NaN
            self._skip_run += 1
            self._skipped_now = False
            if self._skip_run >= SKIP_LIMIT:
                why = f"{SKIP_LIMIT} iterations in a row had a non-finite loss (--on-nan skip)"
                self._diverged(why, self.step + 1)  # the iteration in progress
            return
        self._skip_run = 0
        with torch.no_grad():
            rl, fl = real_logits.detach().float(), fake_logits.detach().float()
            self.acc += torch.stack(
                [
                    l_real.detach(),
                    l_fake.detach(),
                    l_g.detach(),
                    torch.sigmoid(rl).mean(),
                    torch.sigmoid(fl).mean(),
                    (rl > 0).float().mean(),
                    (fl < 0).float().mean(),
                ]
            )
        self.acc_n += 1

    def _update(self, opt: torch.optim.Optimizer, loss: torch.Tensor) -> None:
        """Backward and step; with ``--on-nan skip`` a non-finite loss skips the step instead.

        Skipping costs one host sync per update, so it is not the default: ``stop`` finds a NaN
        at the next logged step without slowing any step down.
        """
        if self.s.on_nan == "skip" and not bool(torch.isfinite(loss.detach())):
            opt.zero_grad(set_to_none=True)
            self.skipped += 1
            self._skipped_now = True
            return
        if self.scaler is None:
            loss.backward()  # under torchrun, DDP averages the gradients over the ranks here
            opt.step()
            return
        self.scaler.scale(loss).backward()
        self.scaler.step(opt)  # skipped when the scaled gradients overflowed
        self.scaler.update()  # after each step: D may step twice per iteration

    @property
    def sampler(self) -> Generator:
        """The generator that samples and is evaluated: the moving average when there is one."""
        return self.G_ema if self.G_ema is not None else self.G

    # -- the loop ----------------------------------------------------------------------------
    def run(self, resume: bool = False) -> Run:
        s = self.s
        if self.main:
            (self.run_dir / rundir.SAMPLES).mkdir(parents=True, exist_ok=True)
        if resume:
            self._restore()
        elif self.main:
            rundir.write_json(self.run_dir / rundir.CONFIG, self.doc)
            (self.run_dir / rundir.METRICS).write_text("")
        if self.s.tensorboard and self.main:
            from torch.utils.tensorboard import SummaryWriter

            self.board = SummaryWriter(str(self.run_dir / rundir.TENSORBOARD), purge_step=self.step + 1)
        t0 = time.perf_counter() - float(self.doc.get("seconds", 0.0))
        self.t0 = t0
        self.progress.start(self.iterations, self.step)
        last: dict[str, float] = {}
        self.G.train()
        self.D.train()
        with self._signals():
            while self.step < self.iterations:
                self.train_step()
                self.step += 1
                step = self.step
                if step % 10 == 0:
                    self.progress.advance(step)
                if step % s.log_every == 0 or step == self.iterations:
                    last = self._log()
                if self.main and (step % s.sample_every == 0 or step == self.iterations):
                    self.save_samples(self.run_dir / rundir.SAMPLES / f"step-{step:07d}.png")
                if self.evaluator and s.eval_every and (step % s.eval_every == 0 or step == self.iterations):
                    self._evaluate()
                if step % s.checkpoint_every == 0 and step != self.iterations:
                    self.save_checkpoint()
                stop = self._stop_signal is not None
                if self.group is not None:  # every rank stops at the same step, or the others hang;
                    # asked every STOP_EVERY steps: a collective per step costs gloo milliseconds
                    stop = step % STOP_EVERY == 0 and distributed.any_rank(stop, self.device)
                if stop:
                    self._interrupt()
        self.progress.stop()
        seconds = time.perf_counter() - t0
        self.doc["seconds"] = seconds
        self.save_checkpoint()
        self._finish(last, seconds)
        return Run(self.run_dir, self.step, seconds, last)

    def _log(self) -> dict[str, float]:
        # The figures and whether each network's weights are still finite, in one host sync.
        weights_ok = [
            torch.isfinite(torch.stack(torch._foreach_norm([p.detach() for p in net.parameters()]))).all()
            for net in (self.G, self.D)
        ]
        local = torch.cat([self.acc / max(self.acc_n, 1), torch.stack(weights_ok).float()])
        if self.group is not None:  # the mean over the ranks: all of them see, and stop on, the same figures
            local = distributed.mean(local)
        figures = local.tolist()
        values = dict(zip(STATS, figures[: len(STATS)], strict=True))
        self.acc.zero_()
        self.acc_n = 0
        bad = [k for k in ("d_loss_real", "d_loss_fake", "g_loss") if not math.isfinite(values[k])]
        what = f"{bad[0]} became {values[bad[0]]}" if bad else ""
        for name, ok in zip(("generator", "discriminator"), figures[len(STATS) :], strict=True):
            if not what and ok < 1:  # under torchrun, below 1 when any rank's weights are not finite
                what = f"the {name}'s weights became NaN or infinite"
        if what:
            self._diverged(what, self.step)
        values["d_loss"] = 0.5 * (values["d_loss_real"] + values["d_loss_fake"])
        # Source 002's confusion-matrix view: how often D calls real real and fake fake, and both.
        values["d_acc"] = 0.5 * (values["d_acc_real"] + values["d_acc_fake"])
        record = {
            "step": self.step,
            **{k: round(v, 6) for k, v in values.items()},
            **({"skipped": self.skipped} if self.s.on_nan == "skip" else {}),
            "time": round(time.perf_counter() - self.t0, 3),
        }
        if self.main:
            self._append_metrics(record)
        if self.board is not None:
            for key, value in values.items():
                self.board.add_scalar(f"train/{key}", value, self.step)
        self.progress.metrics(self.step, values)
        return values

    def _evaluate(self) -> None:
        """``ganzoo eval``'s figures for the sampling generator, appended to metrics.jsonl."""
        assert self.evaluator is not None
        with eval_mode(self.sampler) as g:
            figures = self.evaluator.evaluate_generator(g, self.s.prior, self.s.latent_dim)
        self.last_eval = figures
        self._append_metrics({"step": self.step, "eval": figures})
        if self.board is not None:
            for key, value in figures.items():
                if isinstance(value, (int, float)):
                    self.board.add_scalar(f"eval/{key}", value, self.step)
        self.progress.note(f"step {self.step}: " + self.evaluator.headline(figures))

    def _append_metrics(self, record: dict[str, Any]) -> None:
        with open(self.run_dir / rundir.METRICS, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")

    def _diverged(self, what: str, step: int) -> None:
        self.progress.stop()
        self._close_board()
        ckpt = self.run_dir / rundir.CHECKPOINT_DIR
        have = (ckpt / checkpoint.CHECKPOINT_FILE).exists()
        raise TrainingError(
            f"Training diverged by step {step}: {what}; "
            + (
                f"the last good checkpoint is kept in {ckpt}."
                if have
                else "no checkpoint had been written yet."
            )
        )

    @torch.inference_mode()
    def sample(self, z: torch.Tensor) -> torch.Tensor:
        """Samples in [0, 1] from the generator in eval mode (BatchNorm running stats, no Dropout)."""
        with eval_mode(self.sampler) as g:
            x = g(z)
        return rescale(x.float(), self.out_range, (0.0, 1.0)).clamp(0, 1)

    def save_samples(self, path: Path) -> None:
        """The fixed noise batch as an image grid, or as curves beside real ones for sequences."""
        if self.spec.kind == "image":
            images = self.sample(self.fixed_z)
            save_grid(images, path)
            if self.board is not None:
                from torchvision.utils import make_grid

                self.board.add_image(
                    "samples", make_grid(images.cpu(), nrow=grid_shape(len(images))[0]), self.step
                )
        elif self.real_preview is not None:
            from ganzoo.plots import plot_curves

            real = rescale(self.real_preview.float(), self.out_range, self.spec.value_range)
            fake = rescale(self.sample(self.fixed_z), (0.0, 1.0), self.spec.value_range)
            plot_curves(fake.cpu(), real.cpu(), path, title=f"step {self.step}")

    # -- checkpoints and resume ----------------------------------------------------------------
    def save_checkpoint(self) -> None:
        # Under torchrun each rank's noise stream and figures since the last log are its own.
        ranks = []
        if self.group is not None:
            ranks = distributed.gather_objects((self.rng.get_state(), self.acc.cpu()))
        if not self.main:
            return
        extra = {
            "rng_cpu": torch.get_rng_state(),
            "rng_data": self.data_rng.get_state(),
            **{f"rng_noise.rank{r}": state for r, (state, _) in enumerate(ranks)},
            **{f"acc.rank{r}": acc for r, (_, acc) in enumerate(ranks)},
            "fixed_z": self.fixed_z,
            "acc": self.acc,
        }
        batch_tensors, batch_state = self.batches.state()
        extra.update({f"batches.{k}": v for k, v in batch_tensors.items()})
        if self.device.type == "cuda":
            extra["rng_cuda"] = torch.cuda.get_rng_state(self.device)
        state = {
            "step": self.step,
            "acc_n": self.acc_n,
            "skipped": self.skipped,
            "seconds": time.perf_counter() - self.t0,
            "iterations": self.iterations,
            "batches": batch_state,
            **({"scaler": self.scaler.state_dict()} if self.scaler is not None else {}),
            **_host_rng_state(extra),
        }
        checkpoint.save_checkpoint(
            self.run_dir / rundir.CHECKPOINT_DIR,
            self._modules(),
            {"generator": self.opt_g, "discriminator": self.opt_d},
            extra,
            state,
            keep=self.s.keep_checkpoints,
        )

    def _modules(self) -> dict[str, nn.Module]:
        modules: dict[str, nn.Module] = {"generator": self.G, "discriminator": self.D}
        if self.G_ema is not None:
            modules["generator_ema"] = self.G_ema
        return modules

    def _restore(self) -> None:
        # A kill during an atomic write leaves its temporary file (".NAME.XXXX.tmp") behind.
        for folder in (self.run_dir, self.run_dir / rundir.CHECKPOINT_DIR, self.run_dir / rundir.SAMPLES):
            for stale in folder.glob(".*.tmp") if self.main else ():
                stale.unlink()
        extra, state = checkpoint.load_checkpoint(
            self.run_dir / rundir.CHECKPOINT_DIR,
            self._modules(),
            {"generator": self.opt_g, "discriminator": self.opt_d},
        )
        torch.set_rng_state(extra["rng_cpu"])
        _set_host_rng_state(state, extra)
        self.data_rng.set_state(extra["rng_data"])
        if self.scaler is not None and "scaler" in state:
            self.scaler.load_state_dict(state["scaler"])
        if "rng_cuda" in extra and self.device.type == "cuda":
            torch.cuda.set_rng_state(extra["rng_cuda"], self.device)
        self.fixed_z = extra["fixed_z"].to(self.device)
        self.acc = extra["acc"].to(self.device)
        self.acc_n = int(state["acc_n"])
        self.skipped = int(state.get("skipped", 0))
        self.step = int(state["step"])
        if self.group is not None:  # every rank's own noise stream and figures, as rank 0 saved them
            if f"rng_noise.rank{self.group.rank}" in extra:
                self.rng.set_state(extra[f"rng_noise.rank{self.group.rank}"])
                self.acc = extra[f"acc.rank{self.group.rank}"].to(self.device)
            else:  # saved by a smaller world: this rank forks a fresh noise stream
                self.rng.manual_seed(int(self.doc["seed"]) + 1_000_003 * self.group.rank + self.step)
        self.batches.restore(
            {k.removeprefix("batches."): v for k, v in extra.items() if k.startswith("batches.")},
            state.get("batches", {}),
        )
        self.doc["seconds"] = float(state["seconds"])
        # Lines logged after the checkpoint are logged again as training repeats those steps.
        metrics = self.run_dir / rundir.METRICS
        if self.main and metrics.exists():
            keep = [ln for ln in metrics.read_text().splitlines() if _logged_step(ln) <= self.step]
            metrics.write_text("".join(ln + "\n" for ln in keep))

    @contextmanager
    def _signals(self) -> Iterator[None]:
        """Ctrl-C and SIGTERM finish the current step, write a checkpoint and stop."""

        def handler(signum: int, frame: Any) -> None:
            self._stop_signal = signum

        previous = {}
        try:
            for sig in (signal.SIGINT, signal.SIGTERM):
                previous[sig] = signal.signal(sig, handler)
        except ValueError:  # not the main thread: leave signals alone
            pass
        try:
            yield
        finally:
            for sig, old in previous.items():
                signal.signal(sig, old)

    def _interrupt(self) -> None:
        self.progress.stop()
        self.save_checkpoint()
        self._progress_gif()
        self._close_board()
        signum = self._stop_signal or signal.SIGINT
        name = signal.Signals(signum).name
        raise Interrupted(
            f"Stopped by {name} at step {self.step} of {self.iterations}; a checkpoint is saved. "
            f"Resume with: ganzoo train --resume {self.run_dir}",
            signum,
        )

    def _finish(self, last: dict[str, float], seconds: float) -> None:
        if not self.main:
            return
        doc = self.doc
        doc["result"] = {
            "steps": self.step,
            "seconds": round(seconds, 3),
            "last": {k: round(v, 6) for k, v in last.items()},
        }
        if self.last_eval is not None:
            doc["result"]["eval"] = self.last_eval
        checkpoint.save_weights(self.run_dir / rundir.GENERATOR, self.G, "generator", doc)
        if self.G_ema is not None:
            checkpoint.save_weights(self.run_dir / rundir.GENERATOR_EMA, self.G_ema, "generator", doc)
        checkpoint.save_weights(self.run_dir / rundir.DISCRIMINATOR, self.D, "discriminator", doc)
        rundir.write_json(self.run_dir / rundir.CONFIG, doc)
        from ganzoo.plots import plot_losses

        plot_losses(self.run_dir / rundir.METRICS, self.run_dir / rundir.LOSSES)
        self._progress_gif()
        self._close_board()

    def _close_board(self) -> None:
        if self.board is not None:
            self.board.close()
            self.board = None

    def _progress_gif(self) -> None:
        """samples/progress.gif from the grids so far: at the end, and when a run is stopped."""
        if self.main and self.spec.kind == "image":
            from ganzoo.plots import progress_gif

            progress_gif(self.run_dir / rundir.SAMPLES, self.run_dir / rundir.PROGRESS)


def _host_rng_state(extra: dict[str, torch.Tensor]) -> dict[str, Any]:
    """Python's and (when loaded) numpy's global RNG states, for plugins that draw from them.

    ganzoo itself draws only from torch; a plugin's augmentation or loss may not, and a resumed
    run must replay its draws too. Python's state goes into the JSON, numpy's key into a tensor.
    """
    version, internal, gauss = random.getstate()
    out: dict[str, Any] = {"rng_python": [version, list(internal), gauss]}
    np = sys.modules.get("numpy")  # not imported for this: if no one loaded numpy, no one drew from it
    if np is not None:
        kind, key, pos, has_gauss, cached = np.random.get_state()
        extra["rng_numpy"] = torch.tensor(key.astype("int64"))
        out["rng_numpy"] = [kind, int(pos), int(has_gauss), float(cached)]
    return out


def _set_host_rng_state(state: dict[str, Any], extra: dict[str, torch.Tensor]) -> None:
    if "rng_python" in state:
        version, internal, gauss = state["rng_python"]
        random.setstate((version, tuple(internal), gauss))
    if "rng_numpy" in state and "rng_numpy" in extra:
        import numpy as np

        kind, pos, has_gauss, cached = state["rng_numpy"]
        key = np.array(extra["rng_numpy"].tolist(), dtype=np.uint32)
        np.random.set_state((kind, key, pos, has_gauss, cached))


def _logged_step(line: str) -> float:
    """The step of a metrics.jsonl line; a line cut short by a kill counts as after any step."""
    try:
        return float(json.loads(line)["step"])
    except (ValueError, KeyError, TypeError):
        return math.inf


def new_seed() -> int:
    return int.from_bytes(os.urandom(4), "little") & 0x7FFFFFFF
