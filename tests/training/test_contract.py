"""The loss contract as the trainer calls it: old per-batch losses train unchanged; pairwise losses
see both batches, get D(real) in G's step, refuse the split order; penalties become figures."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import load_file

from ganzoo import hookimpl
from ganzoo.components import Loss
from ganzoo.errors import PluginError, UsageError
from ganzoo.testing import registered


class OldStyle(Loss):
    """A loss written against ganzoo 0.1: three per-batch methods and a penalty, nothing else."""

    def d_real(self, logits: torch.Tensor) -> torch.Tensor:
        return F.softplus(-logits.float()).mean()

    def d_fake(self, logits: torch.Tensor) -> torch.Tensor:
        return F.softplus(logits.float()).mean()

    def g(self, logits: torch.Tensor) -> torch.Tensor:
        return F.softplus(-logits.float()).mean()

    def penalty(self, discriminator: Any, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        return 0.01 * discriminator(real).float().square().mean()


class Spy(Loss):
    """A pairwise loss that records what the trainer hands it."""

    pairwise = True
    train_defaults: ClassVar[dict[str, Any]] = {"d_update": "concat", "d_steps": 2}
    seen: ClassVar[list[tuple[str, tuple[int, ...], tuple[int, ...] | None]]] = []

    def d_loss(self, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
        Spy.seen.append(("d", tuple(real_logits.shape), tuple(fake_logits.shape)))
        return F.softplus(fake_logits.float() - real_logits.float()).mean()

    def g_loss(self, fake_logits: torch.Tensor, real_logits: torch.Tensor | None) -> torch.Tensor:
        Spy.seen.append(
            ("g", tuple(fake_logits.shape), None if real_logits is None else tuple(real_logits.shape))
        )
        assert real_logits is not None and not real_logits.requires_grad
        return F.softplus(real_logits.float() - fake_logits.float()).mean()


class OwnR1(OldStyle):
    """A loss that declares its own r1: it receives the value and applies it; ganzoo must not too."""

    defaults: ClassVar[dict[str, Any]] = {"r1": 0.0}
    given: ClassVar[list[float]] = []

    def __init__(self, r1: float = 0.0) -> None:
        super().__init__(r1=r1)
        OwnR1.given.append(r1)


class TwoTerms(OldStyle):
    """The 0.3 contract: one method, its keys the logged names; nothing else to declare."""

    calls: ClassVar[int] = 0

    def penalties(
        self, discriminator: Any, real: torch.Tensor, fake: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        TwoTerms.calls += 1
        return {"small": 1e-3 * discriminator(real).float().square().mean(), "zero": real.new_zeros(())}


class Shifty(OldStyle):
    """Names a term at one step that it did not name before training: refused, not trained silently."""

    def penalties(
        self, discriminator: Any, real: torch.Tensor, fake: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        return {"late": real.new_zeros(())} if torch.is_grad_enabled() and real.shape[0] > 2 else {}


class Plugin:
    @hookimpl
    def register_losses(self, register: Any) -> None:
        register("old-style", OldStyle)
        register("spy", Spy)
        register("own-r1", OwnR1)
        register("two-terms", TwoTerms)
        register("shifty", Shifty)


@pytest.fixture(autouse=True)
def plugin() -> Any:
    Spy.seen = []
    with registered(Plugin(), name="contract", dist="ganzoo-contract"):
        yield


def test_a_loss_written_the_old_way_still_trains_and_its_penalty_is_a_figure(
    tmp_path: Path, train_short: Callable[..., Any]
) -> None:
    run = tmp_path / "run"
    train_short(run, loss="old-style", iterations=30)
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [10, 20, 30]
    assert all(
        r["penalty"] > 0
        and r["d_loss"] == pytest.approx(0.5 * (r["d_loss_real"] + r["d_loss_fake"]), abs=1e-5)
        for r in rows
    )


def test_a_pairwise_loss_sees_both_batches_and_real_logits_in_gs_step(
    tmp_path: Path, train_short: Callable[..., Any]
) -> None:
    train_short(tmp_path / "run", loss="spy", iterations=3, batch_size=16, sets=["d_update=concat"])
    assert Spy.seen and not [s for s in Spy.seen if s[0] == "d" and s[1] != s[2]]
    assert ("g", (16,), (16,)) in Spy.seen
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert "d_loss" in rows[-1] and "d_loss_real" not in rows[-1]


def test_a_pairwise_loss_the_user_chose_overrides_the_recipes_order_but_not_the_users(
    tmp_path: Path, train_short: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """vanilla-mlp-mnist's recipe updates D on one batch at a time (split); a user who picks a
    pairwise loss should not have to know that: the loss's own order wins, with a note. An order the
    user sets is theirs, and a split one is refused in one sentence before anything is written."""
    run = train_short(tmp_path / "run", loss="spy", iterations=3)
    assert run.record.config.train.d_update == "concat"  # the spy loss's train_defaults
    note = " ".join(capsys.readouterr().err.split())
    assert "note: the loss 'spy' compares real and fake logits together" in note
    assert "(d_update=concat, not the recipe's split)" in note
    with pytest.raises(
        UsageError, match="compares real and fake logits together, so it cannot train with d_update=split"
    ):
        train_short(tmp_path / "split", loss="spy", iterations=3, sets=["d_update=split"])
    assert not (tmp_path / "split").exists()


def test_a_losss_train_defaults_sit_below_the_recipe_and_the_user() -> None:
    from ganzoo import build
    from ganzoo.manager import get_manager
    from ganzoo.resolve import Request, resolve

    def lookup(kind: str, name: str) -> Any:
        return build.lookup(get_manager(), kind, name)

    no_recipe = resolve(Request("vanilla-mlp", "mnist", loss="spy", recipe=None), lookup, recipes={})
    assert (no_recipe.train.d_update, no_recipe.train.d_steps) == ("concat", 2)
    wgan = resolve(Request("vanilla-mlp", "sine", loss="wgan-gp"), lookup, recipes={})
    assert (wgan.train.d_steps, wgan.train.betas_d, wgan.train.lr_g) == (5, [0.0, 0.9], 1e-4)
    user = resolve(Request("vanilla-mlp", "sine", loss="wgan-gp", options={"d_steps": 1}), lookup, recipes={})
    assert user.train.d_steps == 1


def test_a_loss_that_declares_r1_owns_it(tmp_path: Path, train_short: Callable[..., Any]) -> None:
    """vanilla-mlp-mnist's recipe sets R1 10 for bce; a loss declaring its own r1 receives --set
    loss.r1 and ganzoo applies no R1 of its own (no r1 figure), where a loss without it gets ganzoo's."""
    OwnR1.given = []
    own = tmp_path / "own"
    train_short(own, loss="own-r1", iterations=10, sets=["loss.r1=3"])
    assert OwnR1.given[-1] == 3.0
    assert not any("r1" in json.loads(line) for line in (own / "metrics.jsonl").read_text().splitlines())
    theirs = tmp_path / "theirs"
    train_short(theirs, loss="old-style", iterations=10, sets=["loss.r1=3"])
    assert all(json.loads(line)["r1"] > 0 for line in (theirs / "metrics.jsonl").read_text().splitlines())


def test_penalty_names_are_the_keys_of_one_call_before_training(
    tmp_path: Path, train_short: Callable[..., Any]
) -> None:
    """A loss that only implements ``penalties`` has its terms logged under its keys (ganzoo reads
    them from one call on two samples first, without moving the run's random streams: the seeded
    run equals one whose loss names them the 0.2 way); a term named later is one sentence."""
    TwoTerms.calls = 0
    run = tmp_path / "run"
    train_short(run, loss="two-terms", iterations=10)
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert all(r["small"] > 0 and r["zero"] == 0 for r in rows)
    assert TwoTerms.calls == 11  # the names, then one call a D step

    class Listed(TwoTerms):
        def penalty_names(self) -> tuple[str, ...]:
            return ("small", "zero")

    with registered(_Registers("listed", Listed)):
        train_short(tmp_path / "listed", loss="listed", iterations=10)
    a, b = (load_file(str(tmp_path / r / "generator.safetensors")) for r in ("run", "listed"))
    assert all(torch.equal(a[k], b[k]) for k in a)
    with pytest.raises(PluginError, match=r"returned the penalty terms \['late'\], but its first call"):
        train_short(tmp_path / "shifty", loss="shifty", iterations=3)


class _Registers:
    def __init__(self, name: str, cls: Any) -> None:
        self.name, self.cls = name, cls

    @hookimpl
    def register_losses(self, register: Any) -> None:
        register(self.name, self.cls)
