"""Sample grids: laid out as torchvision's make_grid lays them out, written as PNG without torchvision."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image

from ganzoo.sampling import save_grid, tile


@pytest.mark.parametrize(
    ("n", "channels", "columns"), [(64, 1, None), (10, 3, None), (7, 1, 3), (1, 3, None)]
)
def test_tile_matches_torchvisions_make_grid(n: int, channels: int, columns: int | None) -> None:
    from torchvision.utils import make_grid

    images = torch.rand(n, channels, 6, 5)
    ours = tile(images, columns)
    theirs = make_grid(images, nrow=columns or max(1, int(n**0.5)), padding=2)
    torch.testing.assert_close(ours, theirs[:channels], rtol=0, atol=0)


def test_save_grid_writes_grey_and_rgb_pngs_with_the_right_pixels(tmp_path: Path) -> None:
    grey = torch.zeros(4, 1, 3, 3)
    grey[0] = 1.0  # the first tile white
    save_grid(grey, tmp_path / "grey.png")
    with Image.open(tmp_path / "grey.png") as im:
        assert im.mode == "L" and im.size == (2 * 5 + 2, 2 * 5 + 2)
        assert im.getpixel((2, 2)) == 255 and im.getpixel((0, 0)) == 0 and im.getpixel((7, 7)) == 0
    save_grid(torch.rand(2, 3, 4, 4), tmp_path / "rgb.png")
    with Image.open(tmp_path / "rgb.png") as im:
        assert im.mode == "RGB"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grey.png", "rgb.png"]  # no temporary left


@pytest.mark.parametrize(("prior", "centre"), [("normal", 0.0), ("uniform", 0.0), ("uniform01", 0.5)])
def test_truncation_pulls_the_same_draws_toward_the_priors_centre(prior: str, centre: float) -> None:
    """ψ = 1 is the prior itself; ψ < 1 the same draws, ψ times as far from the centre, so one seed's
    samples change smoothly as ψ falls (ganzoo.sampling.noise's choice, docs/guide.md)."""
    from ganzoo.sampling import noise

    def draw(psi: float) -> torch.Tensor:
        return noise(prior, 2000, 8, torch.Generator().manual_seed(3), torch.device("cpu"), psi)

    full, half = draw(1.0), draw(0.5)
    torch.testing.assert_close(half - centre, 0.5 * (full - centre))
    assert (half - centre).abs().max() < (full - centre).abs().max()
    if prior != "normal":  # the interval shrinks around its centre
        assert half.min() >= centre - 0.5 * (1 if prior == "uniform" else 0.5) - 1e-6


def test_truncation_out_of_range_is_one_sentence() -> None:
    from ganzoo.errors import UsageError
    from ganzoo.settings import check_truncation

    assert check_truncation(None) == 1.0 and check_truncation(0.7) == 0.7
    for bad in (0, -0.1, 1.01, float("nan"), True, "0.5"):
        with pytest.raises(UsageError, match=r"--truncation must be a number in \(0, 1\]"):
            check_truncation(bad)  # type: ignore[arg-type]
