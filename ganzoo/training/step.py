"""One training iteration: k discriminator steps in the run's update order, then one generator step.

An update order is one function in :data:`ORDERS`: given a real batch and a detached fake one,
it makes D's update(s) and returns D's logits and losses. A new order is one more function there
(and its name in ``ganzoo.settings.UPDATE_ORDERS``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from ganzoo.components import Loss
from ganzoo.sampling import noise
from ganzoo.settings import TrainSettings
from ganzoo.training.ema import update_ema
from ganzoo.training.engine import Engine
from ganzoo.training.state import TrainState

#: --on-nan skip gives up after this many iterations in a row without a finite loss.
SKIP_LIMIT = 20


@dataclass
class DStep:
    """What one discriminator step leaves for the figures."""

    real_logits: torch.Tensor
    fake_logits: torch.Tensor
    loss_real: torch.Tensor
    loss_fake: torch.Tensor


class Iteration:
    """Runs one iteration of a run: its D steps in the update order, G's step, the EMA update.

    It sums the figures of every iteration on the device (one host sync per logged step, in the
    loop) and, with ``--on-nan skip``, skips an update whose loss is not finite.
    """

    def __init__(
        self, engine: Engine, loss: Loss, state: TrainState, s: TrainSettings, ema_decay: float | None
    ) -> None:
        self.engine, self.loss, self.state, self.s = engine, loss, state, s
        self.order = ORDERS[s.d_update]
        # Source 003's Keras tutorial trains D on one batch that is half real, half fake (Keras'
        # vstack of the two halves), and G on a full batch.
        self.d_batch = s.batch_size // 2 if self.order.half_batches else s.batch_size
        self.reuse = s.reuse_fake and not self.order.half_batches
        self.ema_decay = ema_decay
        self.skip_nonfinite = s.on_nan == "skip"
        self.skipped_now = False
        self.skipped_in_a_row = 0

    def z(self, n: int) -> torch.Tensor:
        return noise(self.s.prior, n, self.s.latent_dim, self.state.noise, self.engine.device)

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

    def penalty(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor | None:
        return self.loss.penalty(self.engine.d_penalty, real, fake)

    def d(self, x: torch.Tensor) -> torch.Tensor:
        return self.engine.forward(self.engine.d_net, x)

    def __call__(self) -> None:
        engine, s, state = self.engine, self.s, self.state
        fake = torch.empty(0)
        d_step: DStep | None = None
        for k in range(s.d_steps):
            real = state.batches.next(self.d_batch)
            # Keep the graph through G only for the fake batch G's step will reuse.
            with torch.set_grad_enabled(self.reuse and k == s.d_steps - 1):
                fake = engine.forward(engine.g_net, self.z(self.d_batch))
            d_step = self.order.update_d(self, real, fake.detach())
        if not self.reuse:
            fake = engine.forward(engine.g_net, self.z(s.batch_size))
        with engine.d_held():  # no weight gradients for D during G's step
            g_loss = self.loss.g(engine.forward(engine.d_frozen, fake))
            state.optimizers["generator"].zero_grad(set_to_none=True)
            self.update(state.optimizers["generator"], g_loss)
        if self.ema_decay is not None:
            update_ema(state.modules["generator_ema"], engine.G, self.ema_decay, state.step + 1)
        if self.skipped_now:  # --on-nan skip: this iteration's figures would be NaN
            self.skipped_in_a_row += 1
            self.skipped_now = False
            return
        self.skipped_in_a_row = 0
        assert d_step is not None
        with torch.no_grad():
            rl, fl = d_step.real_logits.detach().float(), d_step.fake_logits.detach().float()
            state.tally.sums += torch.stack(
                [
                    d_step.loss_real.detach(),
                    d_step.loss_fake.detach(),
                    g_loss.detach(),
                    torch.sigmoid(rl).mean(),
                    torch.sigmoid(fl).mean(),
                    (rl > 0).float().mean(),
                    (fl < 0).float().mean(),
                ]
            )
        state.tally.n += 1


# -- the update orders ------------------------------------------------------------------------------


def split(it: Iteration, real: torch.Tensor, fake: torch.Tensor) -> DStep:
    """Two updates, on the real batch and then on the fake one (the two Keras ``train_on_batch``
    calls of Langr & Bok, "GANs in Action", 2019, chapter 3: source 002). The penalty, which needs
    both batches, goes with the second."""
    opt = it.state.optimizers["discriminator"]
    opt.zero_grad(set_to_none=True)
    real_logits = it.d(real)
    loss_real = it.loss.d_real(real_logits)
    it.update(opt, loss_real)
    opt.zero_grad(set_to_none=True)
    fake_logits = it.d(fake)
    loss_fake = it.loss.d_fake(fake_logits)
    penalty = it.penalty(real, fake)
    it.update(opt, loss_fake if penalty is None else loss_fake + penalty)
    return DStep(real_logits, fake_logits, loss_real, loss_fake)


def joint(it: Iteration, real: torch.Tensor, fake: torch.Tensor) -> DStep:
    """One update on the sum of the two losses, over two forward passes (the DCGAN of Radford et al.
    2016 as source 001's TensorFlow code trains it)."""
    opt = it.state.optimizers["discriminator"]
    opt.zero_grad(set_to_none=True)
    real_logits, fake_logits = it.d(real), it.d(fake)
    loss_real, loss_fake = it.loss.d_real(real_logits), it.loss.d_fake(fake_logits)
    total = loss_real + loss_fake
    penalty = it.penalty(real, fake)
    it.update(opt, total if penalty is None else total + penalty)
    return DStep(real_logits, fake_logits, loss_real, loss_fake)


def concat(it: Iteration, real: torch.Tensor, fake: torch.Tensor) -> DStep:
    """One update on the mean loss over one forward pass of [real; fake] (a single Keras
    ``train_on_batch`` on the concatenated batch, as in Gildenblat's keras-dcgan, 2016, which
    source 000 follows, and source 003)."""
    opt = it.state.optimizers["discriminator"]
    opt.zero_grad(set_to_none=True)
    logits = it.d(torch.cat([real, fake]))
    real_logits, fake_logits = logits[: real.shape[0]], logits[real.shape[0] :]
    loss_real, loss_fake = it.loss.d_real(real_logits), it.loss.d_fake(fake_logits)
    total = (loss_real + loss_fake) * 0.5  # the mean over the concatenated batch
    penalty = it.penalty(real, fake)
    it.update(opt, total if penalty is None else total + penalty)
    return DStep(real_logits, fake_logits, loss_real, loss_fake)


@dataclass(frozen=True)
class Order:
    """One update order: D's update function, and whether D's batch is half real, half fake."""

    update_d: Callable[[Iteration, torch.Tensor, torch.Tensor], DStep]
    half_batches: bool = False


ORDERS: dict[str, Order] = {
    "split": Order(split),
    "joint": Order(joint),
    "concat": Order(concat),
    # Source 003's tutorial: batch_size/2 real and batch_size/2 fake in one batch; G on fresh noise.
    "mixed": Order(concat, half_batches=True),
}
