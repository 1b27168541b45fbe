"""``ganzoo show``: what a run is, how far it got, how well, and its files."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ganzoo.errors import RunDirError


@click.command("show")
@click.argument("run", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@click.option("--open", "open_grid", is_flag=True, help="Open the latest sample grid in the system viewer.")
@click.option(
    "--image/--no-image",
    default=None,
    help="Draw the latest grid in the terminal with coloured half blocks (default: when on a terminal).",
)
def show_cmd(run: Path, as_json: bool, open_grid: bool, image: bool | None) -> None:
    """Summarise a run: what trained on what, how far, how well, and its files."""
    from ganzoo import present
    from ganzoo.api import show

    info = show(run)
    if as_json:
        click.echo(json.dumps(info, indent=2))
    else:
        present.run_summary(info, image)
    if open_grid:
        if info["latest_grid"] is None:
            raise RunDirError(f"{info['run_dir']} has no sample grid yet.")
        click.launch(info["latest_grid"])
