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
