"""A loaded generator walks its latent space on the sphere."""

from __future__ import annotations

import torch


def test_slerp_stays_on_the_sphere_between_its_ends() -> None:
    from ganzoo.loaded import slerp

    a, b = torch.tensor([[3.0, 0.0]]), torch.tensor([[0.0, 3.0]])
    path = slerp(a, b, torch.linspace(0, 1, 5))[0]
    assert torch.allclose(path.norm(dim=1), torch.full((5,), 3.0), atol=1e-5)
    assert torch.allclose(path[0], a[0]) and torch.allclose(path[-1], b[0], atol=1e-6)
