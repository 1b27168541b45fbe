"""What people see: ganzoo show's table draws the latest grid on a terminal."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

import ganzoo
from ganzoo.cli import cli

FIXTURE = Path(__file__).parent / "fixtures" / "mnist"


def test_show_draws_the_latest_grid_in_a_terminal(run: ganzoo.Run) -> None:
    from rich.console import Console

    from ganzoo.plots import grid_as_text

    grid = Path(ganzoo.show(run.run_dir)["latest_grid"])
    text = grid_as_text(grid, 40)
    lines = text.plain.split("\n")
    assert len(lines) == 20 and all(line == "▀" * 40 for line in lines)  # 122x122 px → 40 wide, 40 tall
    console = Console(force_terminal=True, color_system="truecolor", width=80)
    with console.capture() as cap:
        console.print(text)
    assert "\x1b[38;2;" in cap.get() and "48;2;" in cap.get()  # true-colour fore- and background
    # Through a pipe, show prints no picture unless asked to.
    plain = CliRunner().invoke(cli, ["show", str(run.run_dir)]).output
    assert "▀" not in plain
