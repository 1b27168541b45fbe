"""``ganzoo generate`` and ``ganzoo eval``: samples from a trained generator, and how good they are."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ganzoo.cli.common import DEVICE_HELP, positive


@click.command("generate")
@click.argument("run", type=click.Path(path_type=Path))
@click.option(
    "-n", "n", type=int, callback=positive, help="How many samples (default 64; with --interpolate, rows: 8)."
)
@click.option("--seed", type=int, help="Same seed, same samples.")
@click.option("--nice", is_flag=True, help="Keep the n best of 20×n samples as rated by the discriminator.")
@click.option(
    "--nice-factor",
    type=int,
    default=20,
    show_default=True,
    callback=positive,
    help="With --nice: draw this many times n candidates.",
)
@click.option("--smooth", type=int, default=0, help="Sequences: plot a rolling mean over this many points.")
@click.option(
    "--interpolate",
    is_flag=True,
    help="n rows, each a walk between two random latent points (slerp for normal noise).",
)
@click.option("--steps", type=int, default=10, show_default=True, help="With --interpolate: samples per row.")
@click.option(
    "--truncation",
    type=float,
    metavar="PSI",
    help="Noise pulled toward the prior's centre by PSI in (0, 1]: less variety, more typical samples.",
)
@click.option(
    "-o",
    "--out",
    type=click.Path(path_type=Path),
    help="A .png grid, a .safetensors file (tensor 'samples') or a folder (one PNG each).",
)
@click.option(
    "--class",
    "cls",
    help="A conditional run: generate this class, by name (--class sneaker) or number (--class 7).",
)
@click.option(
    "--per-class",
    type=int,
    callback=positive,
    help="A conditional run: N samples of every class, one row a class (instead of -n).",
)
@click.option("--device", help=DEVICE_HELP)
def generate_cmd(
    run: Path,
    n: int,
    seed: int | None,
    nice: bool,
    nice_factor: int,
    smooth: int,
    interpolate: bool,
    steps: int,
    truncation: float | None,
    out: Path | None,
    cls: str | None,
    per_class: int | None,
    device: str | None,
) -> None:
    """Sample a trained generator: RUN is a run directory or a generator.safetensors file."""
    from ganzoo.api import generate

    path = generate(
        run,
        n=n,
        seed=seed,
        out=out,
        nice=nice,
        device=device,
        nice_factor=nice_factor,
        smooth=smooth,
        interpolate=interpolate,
        steps=steps,
        cls=cls,
        per_class=per_class,
        truncation=truncation,
    )
    if per_class is not None:
        what = f"{per_class} samples of every class"
    else:
        n = n if n is not None else 8 if interpolate else 64
        what = f"{n} walks of {steps} samples" if interpolate else f"{n} samples"
        what += f" of class {cls}" if cls is not None else ""
    where = "" if path.where_asked else " (another process is training the run: not into it)"
    click.echo(f"wrote {what} to {path.path}{where}")


@click.command("eval")
@click.argument("run", type=click.Path(path_type=Path))
@click.option(
    "-n", "n", type=int, default=10000, show_default=True, callback=positive, help="Generated samples."
)
@click.option("--seed", type=int, default=0, show_default=True, help="Noise seed: same seed, same figures.")
@click.option("--batch-size", type=int, default=500, show_default=True, callback=positive)
@click.option("--device", help=DEVICE_HELP)
@click.option(
    "--inception-weights",
    type=click.Path(path_type=Path),
    help="torchvision's inception_v3_google-0cc3c7bd.pth, for image data ganzoo has no classifier for.",
)
@click.option("--no-ema", is_flag=True, help="Measure the final weights even if the run kept an EMA.")
@click.option(
    "--truncation",
    type=float,
    metavar="PSI",
    help="Noise pulled toward the prior's centre by PSI in (0, 1]: less variety, more typical samples.",
)
@click.option("--data-dir", type=click.Path(path_type=Path), help="Where the dataset's files are.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def eval_cmd(
    run: Path,
    n: int,
    seed: int,
    batch_size: int,
    device: str | None,
    inception_weights: Path | None,
    no_ema: bool,
    truncation: float | None,
    data_dir: Path | None,
    as_json: bool,
) -> None:
    """Measure a trained generator against its dataset's test split (see docs/metrics.md)."""
    from ganzoo import present
    from ganzoo.api import evaluate

    result = evaluate(
        run,
        n=n,
        seed=seed,
        device=device,
        batch_size=batch_size,
        inception_weights=inception_weights,
        ema=not no_ema,
        data_dir=data_dir,
        truncation=truncation,
    )
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2))
    else:
        present.evaluation(result, run)
