"""Sizes that cannot fit are refused in one sentence before anything is allocated."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ganzoo import memory
from ganzoo.errors import UsageError


def test_a_size_that_fits_passes_and_one_that_does_not_says_what_would(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(memory, "available_bytes", lambda device="cpu": 10_000_000)  # 10 MB, 8 MB usable
    memory.check_fits("-n 1000", 1000, 4000)  # 4 MB
    with pytest.raises(UsageError) as err:
        memory.check_fits("-n 100000", 100_000, 4000)
    assert str(err.value) == (
        "-n 100000 needs about 400 MB of memory, but this machine has 8 MB free for it; at most 2,000 fit."
    )


def test_when_not_even_one_fits_it_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "available_bytes", lambda device="cpu": 1000)
    with pytest.raises(UsageError, match="nothing of that size fits"):
        memory.check_fits("--steps 10", 1, 10_000)


def test_the_machine_reports_memory_available() -> None:
    assert memory.available_bytes("cpu") > 1 << 20


def test_activation_bytes_counts_every_layer_output_once_per_sample() -> None:
    net = nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Sequential(nn.Linear(5, 7)))
    # Leaves: Linear (5) + ReLU (5) + Linear (7) float32 values for each sample; containers add nothing.
    assert memory.activation_bytes(net, torch.zeros(2, 3)) == (5 + 5 + 7) * 4


def test_activation_bytes_leaves_the_network_as_it_was() -> None:
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Dropout(0.5))
    net.train()
    stats, x = net[1].running_mean.clone(), torch.randn(2, 3)
    state = torch.get_rng_state()
    memory.activation_bytes(net, x)
    assert net.training and torch.equal(net[1].running_mean, stats)
    assert torch.equal(torch.get_rng_state(), state)  # no random number drawn
    assert not net[0]._forward_hooks


@pytest.mark.parametrize(
    ("n", "text"), [(512, "512 bytes"), (1500, "1.5 KB"), (2.5e9, "2.5 GB"), (2.4e15, "2,400 TB")]
)
def test_sizes_read_as_a_person_writes_them(n: float, text: str) -> None:
    assert memory.human(n) == text
