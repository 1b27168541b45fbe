"""``ganzoo show``: what a run is, how far it got, how well, and its files."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ganzoo.cli.common import DEVICE_HELP, positive
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
        click.echo(json.dumps(info.to_json(), indent=2))
    else:
        present.run_summary(info, image)
    if open_grid:
        if info.latest_grid is None:
            raise RunDirError(f"{info.run_dir} has no sample grid yet.")
        click.launch(info.latest_grid)


@click.command("compare")
@click.argument("runs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as one JSON object.")
@click.option(
    "-o",
    "--out",
    type=click.Path(path_type=Path),
    help="Also draw each run's samples, a row a run, into a .png.",
)
@click.option(
    "-n", "n", type=int, default=8, show_default=True, callback=positive, help="With -o: samples a run."
)
@click.option(
    "--seed", type=int, default=0, show_default=True, help="With -o: the noise seed, the same for every run."
)
@click.option("--device", help=DEVICE_HELP)
def compare_cmd(
    runs: tuple[Path, ...], as_json: bool, out: Path | None, n: int, seed: int, device: str | None
) -> None:
    """Compare runs side by side: the settings that differ, progress, time, training and eval figures."""
    from ganzoo import present, settings
    from ganzoo.compare import compare, side_by_side
    from ganzoo.resolve import sampling_device

    result = compare(list(runs))
    if out is not None:
        settings.check("seed", seed, "--seed")
        result["grid"] = str(side_by_side(list(runs), n, seed, out, sampling_device(device)))
    if as_json:
        click.echo(json.dumps(result, indent=2))
    else:
        present.comparison(result)
