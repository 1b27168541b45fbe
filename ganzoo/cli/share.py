"""``ganzoo export``: a trained generator as a folder to share."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("export")
@click.argument("run", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["hub", "onnx"]),
    default="hub",
    show_default=True,
    help="hub: a folder with model.safetensors, config.json, samples.png and a README.md model card; "
    "onnx: the generator as a .onnx graph (noise and labels in, samples out; needs ganzoo[onnx]).",
)
@click.option(
    "-o", "--out", type=click.Path(path_type=Path), required=True, help="The folder or .onnx file to write."
)
def export_cmd(run: Path, fmt: str, out: Path) -> None:
    """Export a finished run's generator (its moving average when it kept one) to share it."""
    if fmt == "onnx":
        from ganzoo.export_onnx import OPSET, export_onnx

        path = export_onnx(run, out)
        click.echo(f"wrote {path} (ONNX opset {OPSET}; inputs z and, for a conditional run, labels)")
        return
    from ganzoo.export import export_hub

    path = export_hub(run, out)
    click.echo(f"wrote {path}: `ganzoo generate {path}`, `ganzoo eval {path}`, ganzoo.load_generator(...)")


@click.command("report")
@click.argument("runs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--out", type=click.Path(path_type=Path), required=True, help="The .html file to write.")
def report_cmd(runs: tuple[Path, ...], out: Path) -> None:
    """One self-contained HTML page: each run's grids, losses, eval figures and settings, and the
    runs side by side."""
    from ganzoo.report import report

    path = report(list(runs), out)
    click.echo(f"wrote {path}")
