"""What the metric tests share: one thread, and seeded random features."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import torch


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """These tensors are small: one thread avoids OpenMP spinning when the cores are shared with others."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def rng() -> Callable[[int], torch.Generator]:
    """``rng(seed)``: a CPU generator seeded with ``seed``."""
    return lambda seed=0: torch.Generator().manual_seed(seed)


@pytest.fixture
def normal() -> Callable[..., torch.Tensor]:
    """``normal(n, d, seed=0, shift=0.0)``: n standard normal feature vectors of d dimensions, shifted."""

    def draw(n: int, d: int, seed: int = 0, shift: float = 0.0) -> torch.Tensor:
        return torch.randn(n, d, generator=torch.Generator().manual_seed(seed)) + shift

    return draw
