"""One training iteration: k discriminator steps in the run's update order, then one generator step.

An update order is one function in :data:`ORDERS`: given a real batch, a detached fake one, their
class labels (a conditional run; else None) and the index of this D step over the run, it makes D's
update(s) and returns D's logits, losses and penalty terms. A new order is one more function there
(and its name in ``ganzoo.settings.UPDATE_ORDERS``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from ganzoo.components import Loss
from ganzoo.errors import PluginError
from ganzoo.figures import PAIRWISE_FIGURES, PER_BATCH_FIGURES
from ganzoo.sampling import noise
from ganzoo.settings import BOTH_BATCH_ORDERS, TrainSettings
from ganzoo.training.ema import update_ema
from ganzoo.training.engine import Engine, Net
from ganzoo.training.regularize import Regularizers
from ganzoo.training.state import TrainState

#: --on-nan skip gives up after this many iterations in a row without a finite loss.
SKIP_LIMIT = 20


@dataclass
class DStep:
    """What one discriminator step leaves for the figures and for G's step."""

    real_logits: torch.Tensor
    fake_logits: torch.Tensor
    loss_real: torch.Tensor  # per-batch losses: D's loss on the real batch; pairwise: D's objective
    loss_fake: torch.Tensor | None  # per-batch: on the fake batch; pairwise: None
    penalties: dict[str, torch.Tensor]
    real_seen: torch.Tensor  # the real batch as D saw it (augmented)
    labels: torch.Tensor | None = None  # a conditional run: the class labels of both batches


class Iteration:
    """Runs one iteration of a run: its D steps in the update order, G's step, the EMA update.

    It sums the figures of every iteration on the device (one host sync per logged step, in the
    loop) and, with ``--on-nan skip``, skips an update whose loss is not finite. The figures are
    :attr:`names`: D's losses (per batch, or its pairwise objective), G's loss, D(x), D(G(z)), D's
    accuracy on each batch, then one per penalty term.

    In a conditional run (``class_count`` > 0) D's step draws a labelled real batch, G makes its fake
    batch for the same labels, and D sees each batch with them; G's step on fresh noise draws its
    labels uniformly from the noise stream. With ``loss.acgan`` > 0 D's auxiliary classifier learns
    the labels of both batches and G is rewarded when it classifies G's samples as their labels.
    """

    def __init__(
        self,
        engine: Engine,
        loss: Loss,
        state: TrainState,
        s: TrainSettings,
        ema_decay: float | None,
        regularizers: Regularizers | None = None,
        augment: Callable[[torch.Tensor], torch.Tensor] | None = None,
        class_count: int = 0,
        acgan: float = 0.0,
        loss_penalties: tuple[str, ...] = (),
    ) -> None:
        """``loss_penalties``: the names of the terms the loss's ``penalties`` returns
        (:func:`penalty_names`), each logged as a figure."""
        self.engine, self.loss, self.state, self.s = engine, loss, state, s
        self.order = ORDERS[s.d_update]
        self.pairwise = loss.pairwise  # its order shows D both batches: launch.build refused the others
        # Source 003's Keras tutorial trains D on one batch that is half real, half fake (Keras'
        # vstack of the two halves), and G on a full batch.
        self.d_batch = s.batch_size // 2 if self.order.half_batches else s.batch_size
        self.reuse = s.reuse_fake and not self.order.half_batches
        self.ema_decay = ema_decay
        self.regularizers = regularizers or Regularizers()
        self.augment = augment
        self.skip_nonfinite = s.on_nan == "skip"
        self.skipped_now = False
        self.skipped_in_a_row = 0
        self.class_count, self.acgan = class_count, acgan
        losses = PAIRWISE_FIGURES if self.pairwise else PER_BATCH_FIGURES
        acgan_names = ("acgan",) if acgan > 0 else ()
        self.loss_penalties = loss_penalties
        self.penalty_names = (*loss_penalties, *self.regularizers.names(), *acgan_names)
        self.names: tuple[str, ...] = (*losses, *self.penalty_names)

    def z(self, n: int) -> torch.Tensor:
        return noise(self.s.prior, n, self.s.latent_dim, self.state.noise, self.engine.device)

    def y(self, n: int) -> torch.Tensor | None:
        """Class labels for G's fresh noise, uniform over the classes; None in an unconditional run."""
        if not self.class_count:
            return None
        return torch.randint(self.class_count, (n,), generator=self.state.noise, device=self.engine.device)

    def g(self, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        """G's samples for noise ``z`` (and, in a conditional run, ``labels``)."""
        return self.engine.forward(self.engine.g_net, z, labels)

    def seen(self, x: torch.Tensor) -> torch.Tensor:
        """A batch as D sees it: augmented when the run augments."""
        return x if self.augment is None else self.augment(x)

    def update(self, opt: torch.optim.Optimizer, loss: torch.Tensor) -> None:
        """Backward and step; with ``--on-nan skip`` a non-finite loss skips the step instead.

        Skipping costs one host sync per update, so it is not the default: ``stop`` finds a NaN
        at the next logged step without slowing any step down.
        """
        if self.skip_nonfinite and not bool(torch.isfinite(loss.detach())):
            opt.zero_grad(set_to_none=True)
            self.state.tally.skipped += 1
            self.skipped_now = True
            return
        self.engine.update(opt, loss)

    def penalties(
        self, real: torch.Tensor, fake: torch.Tensor, d_step: int, labels: torch.Tensor | None = None
    ) -> dict[str, torch.Tensor]:
        """The loss's own penalty terms, then R1 and R2 when the run asks for them, then ACGAN's
        classification loss. In a conditional run the penalties see D bound to the batches' labels
        (both batches share them), so a penalty written for unconditional D serves it unchanged."""
        d: Any = self.engine.d_penalty
        if labels is not None:
            d = Conditioned(d, labels)
        terms = self.loss.penalties(d, real, fake)
        if terms.keys() - set(self.loss_penalties):  # trained but never logged nor checked: say so
            raise PluginError(
                f"The loss '{type(self.loss).__name__}' returned the penalty terms {sorted(terms)}, but "
                f"its first call (before training) returned {sorted(self.loss_penalties) or 'none'}: "
                "penalties() must name the same terms at every step (a term that is off returns 0)."
            )
        if self.regularizers.names():
            terms = {**terms, **self.regularizers.terms(d, real, fake, d_step)}
        if self.acgan > 0 and labels is not None:
            terms["acgan"] = self.acgan * (
                self.classify_loss(real, labels) + self.classify_loss(fake, labels)
            )
        return terms

    def classify_loss(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """ACGAN's classification loss: cross-entropy of D's auxiliary classifier on ``x``."""
        with self.engine.autocast:
            logits = self.engine.D.classify(x)  # type: ignore[operator]
        return torch.nn.functional.cross_entropy(logits.float(), labels)

    def d(self, x: torch.Tensor, net: Net | None = None, labels: torch.Tensor | None = None) -> torch.Tensor:
        """D's logits on ``x`` (with ``labels`` in a conditional run), (N,): a D returning (N, 1),
        which the build probe allows, is flattened here, the one place its output enters the losses
        and the figures."""
        return self.engine.forward(self.engine.d_net if net is None else net, x, labels).flatten()

    def __call__(self) -> None:
        engine, s, state = self.engine, self.s, self.state
        fake = torch.empty(0)
        d_step: DStep | None = None
        for k in range(s.d_steps):
            real, labels = state.batches.draw(self.d_batch)
            # Keep the graph through G only for the fake batch G's step will reuse.
            with torch.set_grad_enabled(self.reuse and k == s.d_steps - 1):
                fake = self.g(self.z(self.d_batch), labels)
            d_step = self.order.update_d(self, real, fake.detach(), labels, state.step * s.d_steps + k)
        assert d_step is not None
        g_labels = d_step.labels
        if not self.reuse:
            z = self.z(s.batch_size)
            g_labels = self.y(s.batch_size)
            fake = self.g(z, g_labels)
        with engine.d_held():  # no weight gradients for D during G's step
            fake_seen = self.seen(fake)
            fake_logits = self.d(fake_seen, engine.d_frozen, g_labels)
            real_logits = self._real_logits_for_g(d_step, fake.shape[0]) if self.pairwise else None
            g_loss = self.loss.g_loss(fake_logits, real_logits)
            if self.acgan > 0 and g_labels is not None:  # G: samples D classifies as asked
                g_loss = g_loss + self.acgan * self.classify_loss(fake_seen, g_labels)
            state.optimizers["generator"].zero_grad(set_to_none=True)
            self.update(state.optimizers["generator"], g_loss)
        if self.ema_decay is not None:
            warmed = state.step + 1 if s.ema_warmup else None
            update_ema(state.modules["generator_ema"], engine.G, self.ema_decay, warmed)
        if self.skipped_now:  # --on-nan skip: this iteration's figures would be NaN
            self.skipped_in_a_row += 1
            self.skipped_now = False
            return
        self.skipped_in_a_row = 0
        with torch.no_grad():
            rl, fl = d_step.real_logits.detach().float(), d_step.fake_logits.detach().float()
            if d_step.loss_fake is None:  # pairwise: each real sample against its fake partner
                figures = [d_step.loss_real.detach(), g_loss.detach()]
                figures += [torch.sigmoid(rl - fl).mean(), (rl > fl).float().mean()]
            else:
                figures = [d_step.loss_real.detach(), d_step.loss_fake.detach(), g_loss.detach()]
                figures += [torch.sigmoid(rl).mean(), torch.sigmoid(fl).mean()]
                figures += [(rl > 0).float().mean(), (fl < 0).float().mean()]
            state.tally.sums += torch.stack(
                [*figures, *(self._term(d_step, name) for name in self.penalty_names)]
            )
        state.tally.n += 1

    @staticmethod
    def _term(d_step: DStep, name: str) -> torch.Tensor:
        term = d_step.penalties.get(name)
        return (
            d_step.real_logits.new_zeros((), dtype=torch.float32) if term is None else term.detach().float()
        )

    @torch.no_grad()
    def _real_logits_for_g(self, d_step: DStep, n: int) -> torch.Tensor:
        """D's logits on a real batch for G's pairwise objective, as D is after its update: the batch
        D's last step saw, or a fresh one of G's batch size when the two differ (the mixed order)."""
        real, labels = d_step.real_seen, d_step.labels
        if real.shape[0] != n:
            real, labels = self.state.batches.draw(n)
            real = self.seen(real)
        return self.d(real, self.engine.d_frozen, labels)


def penalty_names(
    loss: Loss, discriminator: torch.nn.Module, shape: tuple[int, ...], class_count: int
) -> tuple[str, ...]:
    """The names of the terms ``loss.penalties`` returns: the keys of one call on two zero samples,
    made on a copy of D in eval mode with torch's random state forked, so the run's D, its BatchNorm
    statistics and every random stream stay as they were (a seeded run trains as it would without
    it). A loss that lists its names in ``penalty_names()`` (ganzoo 0.2's contract) is taken at its
    word; one that overrides neither method has none."""
    cls = type(loss)
    if cls.penalty_names is not Loss.penalty_names:
        return tuple(loss.penalty_names())
    if cls.penalties is Loss.penalties and cls.penalty is Loss.penalty:
        return ()
    probe = copy.deepcopy(discriminator).eval()
    device = next(iter(probe.parameters()), torch.empty(0)).device
    x = torch.zeros((2, *shape), device=device)
    d: Any = probe if not class_count else Conditioned(probe, torch.zeros(2, dtype=torch.long, device=device))
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        terms = loss.penalties(d, x, x)
    if not isinstance(terms, dict):
        raise PluginError(
            f"The loss '{cls.__name__}''s penalties() returned {type(terms).__name__}, not a dict of "
            "named scalar terms."
        )
    return tuple(terms)


class Conditioned(torch.nn.Module):
    """A conditional D with its labels bound: ``Conditioned(d, y)(x)`` is ``d(x, y)``, so that a
    loss's penalty (or R1) that calls D on one argument conditions it on the batch's labels."""

    def __init__(self, discriminator: Net, labels: torch.Tensor) -> None:
        super().__init__()
        self.discriminator, self.labels = discriminator, labels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[0] != self.labels.shape[0]:  # a penalty on another batch has no labels to use
            raise PluginError(
                f"A penalty called D on a batch of {x.shape[0]} samples, but in a conditional run D's "
                f"penalties see it bound to the {self.labels.shape[0]} labels of the real (and fake) "
                "batch: call it on one of the two batches, or on a mix of them sample by sample."
            )
        return self.discriminator(x, self.labels)


def _total(loss: torch.Tensor, penalties: dict[str, torch.Tensor]) -> torch.Tensor:
    for term in penalties.values():
        loss = loss + term
    return loss


# -- the update orders ------------------------------------------------------------------------------


def split(
    it: Iteration, real: torch.Tensor, fake: torch.Tensor, labels: torch.Tensor | None, d_step: int
) -> DStep:
    """Two updates, on the real batch and then on the fake one (the two Keras ``train_on_batch``
    calls of Langr & Bok, "GANs in Action", 2019, chapter 3: source 002). The penalties, which need
    both batches, go with the second. Per-batch losses only."""
    opt = it.state.optimizers["discriminator"]
    real, fake = it.seen(real), it.seen(fake)
    opt.zero_grad(set_to_none=True)
    real_logits = it.d(real, labels=labels)
    loss_real = it.loss.d_real(real_logits)
    it.update(opt, loss_real)
    opt.zero_grad(set_to_none=True)
    fake_logits = it.d(fake, labels=labels)
    loss_fake = it.loss.d_fake(fake_logits)
    penalties = it.penalties(real, fake, d_step, labels)
    it.update(opt, _total(loss_fake, penalties))
    return DStep(real_logits, fake_logits, loss_real, loss_fake, penalties, real, labels)


def joint(
    it: Iteration, real: torch.Tensor, fake: torch.Tensor, labels: torch.Tensor | None, d_step: int
) -> DStep:
    """One update on both losses, over two forward passes (the DCGAN of Radford et al. 2016 as
    source 001's TensorFlow code trains it: the sum of the real and the fake loss)."""
    opt = it.state.optimizers["discriminator"]
    real, fake = it.seen(real), it.seen(fake)
    opt.zero_grad(set_to_none=True)
    real_logits, fake_logits = it.d(real, labels=labels), it.d(fake, labels=labels)
    return _one_update(it, opt, real, fake, labels, real_logits, fake_logits, d_step, mean=False)


def concat(
    it: Iteration, real: torch.Tensor, fake: torch.Tensor, labels: torch.Tensor | None, d_step: int
) -> DStep:
    """One update on the mean loss over one forward pass of [real; fake] (a single Keras
    ``train_on_batch`` on the concatenated batch, as in Gildenblat's keras-dcgan, 2016, which
    source 000 follows, and source 003)."""
    opt = it.state.optimizers["discriminator"]
    real, fake = it.seen(real), it.seen(fake)
    opt.zero_grad(set_to_none=True)
    both = None if labels is None else torch.cat([labels, labels])
    logits = it.d(torch.cat([real, fake]), labels=both)
    real_logits, fake_logits = logits[: real.shape[0]], logits[real.shape[0] :]
    return _one_update(it, opt, real, fake, labels, real_logits, fake_logits, d_step, mean=True)


def _one_update(
    it: Iteration,
    opt: torch.optim.Optimizer,
    real: torch.Tensor,
    fake: torch.Tensor,
    labels: torch.Tensor | None,
    real_logits: torch.Tensor,
    fake_logits: torch.Tensor,
    d_step: int,
    mean: bool,
) -> DStep:
    """D's objective on both batches and its one update; ``mean``: a per-batch loss is averaged over
    the two halves of one concatenated batch rather than summed."""
    if it.pairwise:
        loss_real, loss_fake = it.loss.d_loss(real_logits, fake_logits), None
        total = loss_real
    else:
        loss_real, loss_fake = it.loss.d_real(real_logits), it.loss.d_fake(fake_logits)
        total = loss_real + loss_fake
        if mean:
            total = total * 0.5
    penalties = it.penalties(real, fake, d_step, labels)
    it.update(opt, _total(total, penalties))
    return DStep(real_logits, fake_logits, loss_real, loss_fake, penalties, real, labels)


@dataclass(frozen=True)
class Order:
    """One update order: D's update function, and whether D's batch is half real, half fake."""

    update_d: Callable[[Iteration, torch.Tensor, torch.Tensor, torch.Tensor | None, int], DStep]
    half_batches: bool = False
    both_batches: bool = True  # D's objective sees both batches at once (a pairwise loss can train)


ORDERS: dict[str, Order] = {
    "split": Order(split, both_batches="split" in BOTH_BATCH_ORDERS),
    "joint": Order(joint),
    "concat": Order(concat),
    # Source 003's tutorial: batch_size/2 real and batch_size/2 fake in one batch; G on fresh noise.
    "mixed": Order(concat, half_batches=True),
}
