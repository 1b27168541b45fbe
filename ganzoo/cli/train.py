"""``ganzoo train``: its training-setting options are made from the settings schema (ganzoo.settings),
so an option, its help and its validation are written once."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ganzoo import env, settings
from ganzoo.cli.common import complete, warn_failed_plugins

#: ``--tracker``'s choices (ganzoo.training.trackers.TRACKERS, named here to keep --help torch-free).
TRACKER_NAMES = ("mlflow", "wandb")


def setting_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """One ``--NAME`` option per training setting the schema marks ``option=True``, in its order."""
    types = {int: click.INT, float: click.FLOAT, str: click.STRING}
    for name in reversed(list(settings.FIELDS)):
        meta = settings.FIELDS[name].metadata
        if not meta["option"]:
            continue
        flag, kind, help = "--" + name.replace("_", "-"), settings.value_type(name), meta["help"]
        if kind is bool:
            option = click.option(f"{flag}/--no-{flag[2:]}", name, default=None, help=help)
        elif kind == list[str] and name == "tracker":
            option = click.option(flag, name, multiple=True, type=click.Choice(TRACKER_NAMES), help=help)
        elif kind == list[str]:
            option = click.option(flag, name, multiple=True, shell_complete=complete("reporter"), help=help)
        elif meta["choices"]:
            option = click.option(flag, name, type=click.Choice(meta["choices"]), help=help)
        else:
            option = click.option(flag, name, type=types[kind], help=help)
        command = option(command)
    return command


@click.command("train")
@click.argument("arch", required=False, shell_complete=complete("generator"))
@click.argument("dataset", required=False, shell_complete=complete("dataset"))
@click.option(
    "--loss",
    shell_complete=complete("loss"),
    help="Loss by name (default: the recipe's, else the architecture's).",
)
@click.option(
    "--generator",
    shell_complete=complete("generator"),
    help="Generator by name, to mix with another architecture's discriminator.",
)
@click.option("--discriminator", shell_complete=complete("discriminator"), help="Discriminator by name.")
@click.option(
    "--recipe",
    shell_complete=complete("recipe"),
    help="A zoo.toml recipe by name (default: the one for ARCH and DATASET).",
)
@setting_options
@click.option(
    "--label-smoothing", type=float, help="One-sided: real labels become 1 - X (--set loss.label_smoothing)."
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="Run directory (default runs/ARCH-DATASET-TIME, under $GANZOO_HOME when set).",
)
@click.option("--force", is_flag=True, help="Allow --out to be an existing non-empty directory.")
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    help="A folder holding the dataset's files (default: $GANZOO_DATA, the settings file, the cache).",
)
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="KEY=VALUE",
    help="Any training setting or component hyperparameter, e.g. generator.hidden=256.",
)
@click.option(
    "--resume",
    type=click.Path(path_type=Path),
    help="Continue a run from its checkpoint (more iterations, another device: see docs/guide.md).",
)
@click.option(
    "--init",
    metavar="RUN|NAME",
    help="Fine-tune: G and D start from a trained run, hub folder or pretrained generator.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
@click.option("--json", "as_json", is_flag=True, help="No progress output; the result as one JSON object.")
def train_cmd(
    arch: str | None,
    dataset: str | None,
    loss: str | None,
    generator: str | None,
    discriminator: str | None,
    recipe: str | None,
    label_smoothing: float | None,
    out: Path | None,
    force: bool,
    data_dir: Path | None,
    sets: tuple[str, ...],
    resume: Path | None,
    init: str | None,
    quiet: bool,
    as_json: bool,
    **options: Any,
) -> None:
    """Train ARCH on DATASET with the zoo's recipe for the pair; every option overrides it."""
    from ganzoo.api import train
    from ganzoo.progress import make_progress

    if resume is None and (arch is None or dataset is None):
        raise click.UsageError("train needs ARCH and DATASET (or --resume RUN_DIR).")
    if options.get("epochs") is not None and options.get("iterations") is not None:
        raise click.UsageError("give --iterations or --epochs, not both.")
    if label_smoothing is not None:
        sets = (f"loss.label_smoothing={label_smoothing}", *sets)
    options = {k: v for k, v in options.items() if v is not None and v != ()}
    warn_failed_plugins()
    result = train(
        arch,
        dataset,
        recipe=recipe,
        generator=generator,
        discriminator=discriminator,
        loss=loss,
        out=out,
        force=force,
        data_dir=data_dir,
        sets=sets,
        resume=resume,
        init=init,
        progress=make_progress(quiet or as_json),
        **options,
    )
    if env.rank() != 0:  # under torchrun, rank 0 speaks for all
        return
    if as_json:
        record = {"run_dir": str(result.run_dir), "steps": result.steps, "seconds": round(result.seconds, 3)}
        click.echo(json.dumps({**record, "last": result.last}, indent=2))
        return
    click.echo(
        f"trained {result.steps} iterations in {result.seconds:.1f} s; run directory: {result.run_dir}"
    )
    click.echo(f"sample it: ganzoo generate {result.run_dir} -n 64 -o grid.png")
