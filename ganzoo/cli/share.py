"""``ganzoo export``: a trained generator as a folder to share."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("export")
@click.argument("run", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["hub"]),
    default="hub",
    show_default=True,
    help="hub: a folder with model.safetensors, config.json, samples.png and a README.md model card.",
)
@click.option("-o", "--out", type=click.Path(path_type=Path), required=True, help="The folder to write.")
def export_cmd(run: Path, fmt: str, out: Path) -> None:
    """Export a finished run's generator (its moving average when it kept one) to share it."""
    from ganzoo.export import export_hub

    path = export_hub(run, out)
    click.echo(f"wrote {path}: `ganzoo generate {path}`, `ganzoo eval {path}`, ganzoo.load_generator(...)")
