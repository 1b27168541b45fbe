"""The ``ganzoo`` command: parses options and presents results; the work happens in ganzoo.api.

Importing this module never imports torch: ``--help``, ``--version`` and ``list`` stay fast.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from ganzoo import __version__
from ganzoo.errors import GanzooError, Interrupted, RunDirError, TrainingError
from ganzoo.registry import PLURALS

LIST_KINDS = [*PLURALS, "recipes"]
WRAPPED = {"summary", "status", "where", "provides"}  # table columns that may fold; names never do


def _err(message: str, hint: str | None = None) -> None:
    from rich.console import Console
    from rich.markup import escape

    # The message is text, not markup: "[train]" in it must print as written.
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    console.print(f"[bold red]error:[/] {escape(message)}", markup=True)
    if hint:
        console.print(f"[dim]hint: {escape(hint)}[/]")


def _warn_failed_plugins() -> None:
    from ganzoo.manager import ENV_BLOCK, get_manager

    for p in get_manager().failures():
        info = p.info
        click.echo(
            f"warning: plugin '{info.name}' from {info.dist} {info.version} failed to load ({p.reason}); "
            f"disable it with {ENV_BLOCK}={info.name} or remove it with `pip uninstall {info.dist}`.",
            err=True,
        )


class GanzooGroup(click.Group):
    """Turns ganzoo's own errors into one red line on stderr and the error's exit status."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except GanzooError as exc:
            # Under torchrun the ranks agree on stops and divergence: rank 0 says it for all.
            if not (isinstance(exc, (Interrupted, TrainingError)) and os.environ.get("RANK", "0") != "0"):
                _err(str(exc))
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            _err("interrupted.")
            ctx.exit(130)
        except OSError as exc:  # a full disk, a read-only or missing folder: say which file, no traceback
            where = f"{exc.filename}: " if exc.filename else ""
            _err(f"cannot read or write {where}{exc.strerror or exc}; files already written are kept.")
            ctx.exit(1)


def _complete(kind: str) -> Any:
    """Shell completion of component (or recipe) names, from the registry: no torch is imported."""

    def complete(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
        from click.shell_completion import CompletionItem

        try:
            if kind == "recipe":
                from ganzoo.recipes import load_recipes

                names = [(name, r.summary) for name, r in load_recipes().items()]
            else:
                from ganzoo.api import list_components

                names = [(c["name"], c["summary"]) for c in list_components(kind)]
        except GanzooError:  # a broken zoo.toml or plugin: no suggestions rather than a traceback
            return []
        return [CompletionItem(n, help=h) for n, h in sorted(set(names)) if n.startswith(incomplete)]

    return complete


def _print_version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    """ganzoo's, torch's and the device's versions (this one imports torch: about a second)."""
    if not value or ctx.resilient_parsing:
        return
    import torch

    from ganzoo.devices import resolve_device, set_cpu_threads

    build = f"CUDA {torch.version.cuda}" if torch.version.cuda else "CPU only"
    device = resolve_device("auto")
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        where = (
            f"cuda ({props.name}, compute {props.major}.{props.minor}, {torch.cuda.device_count()} visible)"
        )
    elif device.type == "mps":
        where = "mps (Apple GPU)"
    else:
        where = f"cpu ({set_cpu_threads()} threads, as ganzoo trains)"
    click.echo(f"ganzoo {__version__}")
    click.echo(f"torch {torch.__version__} ({build}), python {sys.version.split()[0]}")
    click.echo(f"device: {where}")
    ctx.exit()


def _disable_plugins(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> None:
    """``-p no:NAME`` (pytest's spelling) adds NAME to GANZOO_DISABLE_PLUGINS for this command."""
    from ganzoo.manager import ENV_BLOCK

    names: list[str] = []
    for value in values:
        if not value.startswith("no:") or not value[3:]:
            raise click.BadParameter(f"expected no:NAME (a plugin or distribution), got {value!r}.")
        names.append(value[3:])
    if names:
        from ganzoo import manager

        current = os.environ.get(ENV_BLOCK, "")
        os.environ[ENV_BLOCK] = ",".join(filter(None, [current, *names]))
        manager._MANAGER = None  # built again, without them


@click.group(cls=GanzooGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Show ganzoo's, torch's and the device's versions and exit.",
)
@click.option(
    "-p",
    "disable",
    multiple=True,
    metavar="no:NAME",
    expose_value=False,
    callback=_disable_plugins,
    help="Disable a plugin (or distribution) for this command; repeatable.",
)
def cli() -> None:
    """ganzoo: a plugin-based GAN zoo. Train, sample and list GANs by name.

    \b
    ganzoo list                        every generator, discriminator, dataset and loss
    ganzoo train vanilla-mlp mnist     train source 002's recipe on real MNIST
    ganzoo generate RUN_DIR -o x.png   sample a trained generator
    """


# -- list / plugins ------------------------------------------------------------------------------


@cli.command("list")
@click.argument("kind", required=False, type=click.Choice(LIST_KINDS))
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_cmd(kind: str | None, as_json: bool) -> None:
    """List registered components (or the zoo's recipes) with who registered them."""
    if kind == "recipes":
        _list_recipes(as_json)
        return
    from ganzoo.api import list_components

    rows = list_components(PLURALS[kind] if kind else None)
    _warn_failed_plugins()
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="ganzoo components", show_lines=False)
    for col in ("kind", "name", "summary", "registered by"):
        table.add_column(col, overflow="fold", no_wrap=col not in WRAPPED)
    for r in rows:
        name = r["qualified"] + " (ambiguous)" if r["ambiguous"] else r["name"]
        table.add_row(r["kind"], name, r["summary"], f"{r['dist']} {r['version']}")
    Console().print(table)


def _list_recipes(as_json: bool) -> None:
    from ganzoo.recipes import load_recipes

    recipes = load_recipes()
    rows = [
        {"name": r.name, "source": r.source, "summary": r.summary, **r.components} for r in recipes.values()
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="zoo.toml recipes")
    for col in ("name", "source", "trains", "summary"):
        table.add_column(col, overflow="fold", no_wrap=col not in WRAPPED)
    for r in rows:
        arch = (
            r["generator"]
            if r["generator"] == r["discriminator"]
            else f"{r['generator']}/{r['discriminator']}"
        )
        loss = f" ({r['loss']})" if r.get("loss") else ""
        table.add_row(r["name"], r["source"], f"{arch} on {r['dataset']}{loss}", r["summary"])
    Console().print(table)


@cli.command("plugins")
@click.option("--all", "show_all", is_flag=True, help="Include ganzoo's built-in plugins.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def plugins_cmd(show_all: bool, as_json: bool) -> None:
    """Show each plugin: distribution, version, what it provides, and whether it loaded."""
    from ganzoo.manager import get_manager

    rows: list[dict[str, Any]] = [
        {
            "plugin": p.info.name,
            "dist": p.info.dist,
            "version": p.info.version,
            "module": p.info.module,
            "builtin": p.info.builtin,
            "status": p.status,
            "reason": p.reason,
            "provides": dict(p.provides),
        }
        for p in get_manager().plugins
        if show_all or not p.info.builtin
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    if not rows:
        click.echo("No third-party plugins installed (`ganzoo plugins --all` shows the built-ins).")
        return
    table = Table(title="ganzoo plugins")
    for col in ("plugin", "distribution", "provides", "status"):
        table.add_column(col, overflow="fold", no_wrap=col not in WRAPPED)
    for r in rows:
        provides = ", ".join(f"{n} {k}" for k, n in sorted(r["provides"].items())) or "-"
        status = r["status"] + (f": {r['reason']}" if r["reason"] else "")
        table.add_row(r["plugin"], f"{r['dist']} {r['version']}", provides, status)
    Console().print(table)


# -- train ---------------------------------------------------------------------------------------


def _positive(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    if value is not None and value <= 0:
        raise click.BadParameter(f"must be positive, got {value}.")
    return value


@cli.command("train")
@click.argument("arch", required=False, shell_complete=_complete("generator"))
@click.argument("dataset", required=False, shell_complete=_complete("dataset"))
@click.option(
    "--loss",
    shell_complete=_complete("loss"),
    help="Loss by name (default: the recipe's, else the architecture's).",
)
@click.option(
    "--generator",
    shell_complete=_complete("generator"),
    help="Generator by name, to mix with another architecture's discriminator.",
)
@click.option("--discriminator", shell_complete=_complete("discriminator"), help="Discriminator by name.")
@click.option(
    "--recipe",
    shell_complete=_complete("recipe"),
    help="A zoo.toml recipe by name (default: the one for ARCH and DATASET).",
)
@click.option("--iterations", type=int, callback=_positive, help="Total generator steps.")
@click.option(
    "--epochs", type=float, callback=_positive, help="Passes over the data (overrides --iterations)."
)
@click.option("--batch-size", type=int, callback=_positive)
@click.option("--lr-g", type=float, callback=_positive, help="Generator learning rate.")
@click.option("--lr-d", type=float, callback=_positive, help="Discriminator learning rate.")
@click.option("--d-steps", type=int, callback=_positive, help="Discriminator steps per generator step.")
@click.option("--latent-dim", type=int, callback=_positive)
@click.option("--label-smoothing", type=float, help="One-sided: real labels become 1 - X.")
@click.option(
    "--device", envvar="GANZOO_DEVICE", show_envvar=True, help="auto (default), cpu, cuda, cuda:N or mps."
)
@click.option("--seed", type=int, help="Makes a CPU run repeatable.")
@click.option(
    "--on-nan",
    type=click.Choice(["stop", "skip"]),
    help="A non-finite loss: stop the run (default), or skip that update (one host sync per update).",
)
@click.option("--ema", type=float, help="Keep a moving average of G's weights with this decay (e.g. 0.999).")
@click.option(
    "--eval-every", type=int, callback=_positive, help="Run `ganzoo eval` every N iterations and at the end."
)
@click.option(
    "--precision",
    type=click.Choice(["fp32", "bf16", "fp16"]),
    help="Autocast dtype of the forward passes (default fp32); fp16 adds a gradient scaler.",
)
@click.option(
    "--compile/--no-compile",
    "compile",
    default=None,
    help="torch.compile both networks (opt-in: costs compile time up front).",
)
@click.option(
    "--tensorboard/--no-tensorboard",
    "tensorboard",
    default=None,
    help="Also log to RUN/tensorboard (needs the tensorboard package: pip install 'ganzoo[tensorboard]').",
)
@click.option(
    "--sync-bn/--no-sync-bn",
    "sync_bn",
    default=None,
    help="Under torchrun on CUDA: BatchNorm statistics over all ranks' batches.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="Run directory (default runs/ARCH-DATASET-TIME, under $GANZOO_HOME when set).",
)
@click.option("--force", is_flag=True, help="Allow --out to be an existing non-empty directory.")
@click.option("--sample-every", type=int, callback=_positive)
@click.option(
    "--keep-checkpoints", type=int, callback=_positive, help="Keep the last K checkpoints (default 1)."
)
@click.option("--checkpoint-every", type=int, callback=_positive)
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    help="A folder holding the dataset's files (default: $GANZOO_DATA, the config file, the cache).",
)
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="KEY=VALUE",
    help="Any training setting or component hyperparameter, e.g. generator.hidden=256.",
)
@click.option("--resume", type=click.Path(path_type=Path), help="Continue a run from its checkpoint.")
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
    _warn_failed_plugins()
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
        progress=make_progress(quiet or as_json),
        **options,
    )
    if os.environ.get("RANK", "0") != "0":  # under torchrun, rank 0 speaks for all
        return
    if as_json:
        record = {"run_dir": str(result.run_dir), "steps": result.steps, "seconds": round(result.seconds, 3)}
        click.echo(json.dumps({**record, "last": result.last}, indent=2))
        return
    click.echo(
        f"trained {result.steps} iterations in {result.seconds:.1f} s; run directory: {result.run_dir}"
    )
    click.echo(f"sample it: ganzoo generate {result.run_dir} -n 64 -o grid.png")


# -- generate ------------------------------------------------------------------------------------


@cli.command("generate")
@click.argument("run", type=click.Path(path_type=Path))
@click.option(
    "-n",
    "n",
    type=int,
    callback=_positive,
    help="How many samples (default 64; with --interpolate, rows: 8).",
)
@click.option("--seed", type=int, help="Same seed, same samples.")
@click.option("--nice", is_flag=True, help="Keep the n best of 20×n samples as rated by the discriminator.")
@click.option(
    "--nice-factor",
    type=int,
    default=20,
    show_default=True,
    callback=_positive,
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
    "-o",
    "--out",
    type=click.Path(path_type=Path),
    help="A .png grid, a .safetensors file (tensor 'samples') or a folder (one PNG each).",
)
@click.option("--device", default="cpu", show_default=True, envvar="GANZOO_DEVICE", show_envvar=True)
def generate_cmd(
    run: Path,
    n: int,
    seed: int | None,
    nice: bool,
    nice_factor: int,
    smooth: int,
    interpolate: bool,
    steps: int,
    out: Path | None,
    device: str,
) -> None:
    """Sample a trained generator: RUN is a run directory or a generator.safetensors file."""
    from ganzoo.api import generate

    n = n or (8 if interpolate else 64)
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
    )
    what = f"{n} walks of {steps} samples" if interpolate else f"{n} samples"
    click.echo(f"wrote {what} to {path}")


# -- completion ----------------------------------------------------------------------------------


@cli.command("completion")
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion_cmd(shell: str) -> None:
    """Print the shell-completion script for SHELL (commands, options and component names).

    \b
    bash: ganzoo completion bash > ~/.local/share/bash-completion/completions/ganzoo
    zsh:  ganzoo completion zsh > "${fpath[1]}/_ganzoo"
    fish: ganzoo completion fish > ~/.config/fish/completions/ganzoo.fish
    """
    from click.shell_completion import get_completion_class

    cls = get_completion_class(shell)
    assert cls is not None  # the three choices are click's own
    ctx = click.get_current_context()
    click.echo(cls(cli, {}, "ganzoo", "_GANZOO_COMPLETE").source(), nl=False)
    ctx.exit(0)


# -- show ----------------------------------------------------------------------------------------


@cli.command("show")
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
    from ganzoo.api import show

    info = show(run)
    if as_json:
        click.echo(json.dumps(info, indent=2))
    else:
        _print_show(info, image)
    if open_grid:
        if info["latest_grid"] is None:
            raise RunDirError(f"{info['run_dir']} has no sample grid yet.")
        click.launch(info["latest_grid"])


def _print_show(info: dict[str, Any], image: bool | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"ganzoo run {info['run_dir']}", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    steps = f"{info['steps']:,} of {info['iterations']:,}" if info.get("iterations") else f"{info['steps']:,}"
    status = info["status"] + (f" (resume: {info['resume']})" if "resume" in info else "")
    seconds = info.get("seconds")
    shape = "x".join(map(str, info["data"]["shape"] or []))
    rows = [
        ("status", status),
        ("recipe", str(info["recipe"])),
        ("networks", f"G {info['generator']}, D {info['discriminator']}, loss {info['loss']}"),
        ("data", f"{info['dataset']}: {info['data']['size']:,} samples of {shape}"),
        ("iterations", steps),
        ("time", f"{seconds:.1f} s" if seconds is not None else "-"),
        (
            "seed, device",
            f"{info['seed']}, {info['device']}"
            + (f" x {info['world_size']}" if info["world_size"] > 1 else ""),
        ),
    ]
    last = info.get("last") or {}
    if last:
        keys = [("d_loss", "D loss"), ("g_loss", "G loss"), ("d_real", "D(x)"), ("d_fake", "D(G(z))")]
        rows.append(("last figures", "  ".join(f"{label} {last[k]:.3f}" for k, label in keys if k in last)))
    if info.get("eval"):
        figures = {k: v for k, v in info["eval"].items() if isinstance(v, (int, float))}
        rows.append(("eval", "  ".join(f"{METRIC_NAMES.get(k, k)} {v:.4g}" for k, v in figures.items())))
    files = info["files"]
    grids = [f for f in files if f.startswith("samples/step-")]
    listed = [
        f"{name} ({_size(size)})" for name, size in files.items() if not name.startswith("samples/step-")
    ]
    rows.append(("files", ", ".join(listed) + (f", samples/: {len(grids)} grids" if grids else "")))
    rows.append(("latest grid", info["latest_grid"] or "-"))
    for key, value in rows:
        table.add_row(key, value)
    console = Console(highlight=False, soft_wrap=False)
    console.print(table)
    draw = console.is_terminal if image is None else image
    if draw and info["latest_grid"]:
        from ganzoo.plots import grid_as_text

        console.print(grid_as_text(Path(info["latest_grid"]), min(console.width - 1, 96)))


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB"):
        if size < 1024:
            return f"{size:.0f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


# -- new-plugin ----------------------------------------------------------------------------------


@cli.command("new-plugin")
@click.argument("name")
@click.option(
    "--dir",
    "parent",
    type=click.Path(path_type=Path),
    default=Path("."),
    help="Where to create it (default .).",
)
def new_plugin_cmd(name: str, parent: Path) -> None:
    """Write a pip-installable plugin package NAME (an example architecture, a test, a README)."""
    from ganzoo.template import names, new_plugin

    root = new_plugin(name, parent)
    component = names(name)[2]
    click.echo(f"wrote {root}")
    click.echo(f"next: cd {root} && pip install -e '.[test]' && pytest && ganzoo train {component} mnist")


# -- eval ----------------------------------------------------------------------------------------


@cli.command("eval")
@click.argument("run", type=click.Path(path_type=Path))
@click.option(
    "-n", "n", type=int, default=10000, show_default=True, callback=_positive, help="Generated samples."
)
@click.option("--seed", type=int, default=0, show_default=True, help="Noise seed: same seed, same figures.")
@click.option("--batch-size", type=int, default=500, show_default=True, callback=_positive)
@click.option("--device", default="cpu", show_default=True, envvar="GANZOO_DEVICE", show_envvar=True)
@click.option(
    "--inception-weights",
    type=click.Path(path_type=Path),
    help="torchvision's inception_v3_google-0cc3c7bd.pth, for image data ganzoo has no classifier for.",
)
@click.option("--no-ema", is_flag=True, help="Measure the final weights even if the run kept an EMA.")
@click.option("--data-dir", type=click.Path(path_type=Path), help="Where the dataset's files are.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def eval_cmd(
    run: Path,
    n: int,
    seed: int,
    batch_size: int,
    device: str,
    inception_weights: Path | None,
    no_ema: bool,
    data_dir: Path | None,
    as_json: bool,
) -> None:
    """Measure a trained generator against its dataset's test split (see docs/metrics.md)."""
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
    )
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"ganzoo eval {run}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in result["metrics"].items():
        if key != "class_shares":
            table.add_row(METRIC_NAMES.get(key, key), str(value))
    console = Console()
    console.print(table)
    protocol = "; ".join(f"{k}: {v}" for k, v in result["protocol"].items())
    console.print(
        f"generator: {result['generator']}; {protocol}", highlight=False, soft_wrap=True, markup=False
    )


METRIC_NAMES = {
    "fd": "Fréchet distance",
    "kid": "KID",
    "kid_std": "KID std over subsets",
    "precision": "precision",
    "recall": "recall",
    "classifier_score": "classifier score (IS analogue)",
    "inception_score": "Inception score",
    "classes_covered": "classes covered (share ≥ 2%)",
    "class_kl": "KL(class histogram ‖ uniform)",
    "mmd": "MMD² to real curves",
    "sine_residual": "sine-fit RMS residual (mean)",
    "sine_residual_median": "sine-fit RMS residual (median)",
    "sine_share": "share of curves that are sines",
    "sine_residual_real": "sine-fit residual of real curves",
}


# -- data ----------------------------------------------------------------------------------------


@cli.group("data")
def data_group() -> None:
    """Fetch datasets into the cache, and see where each one is."""


@data_group.command("list")
@click.option("--data-dir", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True)
def data_list_cmd(data_dir: Path | None, as_json: bool) -> None:
    """Each dataset: whether its files are present, and where."""
    from ganzoo.api import data_status

    rows = data_status(data_dir=data_dir)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="ganzoo datasets")
    for col in ("dataset", "present", "where"):
        table.add_column(col, overflow="fold", no_wrap=col not in WRAPPED)
    for r in rows:
        table.add_row(r["name"], "yes" if r["present"] else "no", r["where"])
    Console().print(table)


@data_group.command("fetch")
@click.argument("name")
@click.option("--data-dir", type=click.Path(path_type=Path))
def data_fetch_cmd(name: str, data_dir: Path | None) -> None:
    """Download NAME into the cache (or find it in --data-dir) so later runs need no network."""
    from ganzoo.api import data_fetch

    click.echo(f"{name}: {data_fetch(name, data_dir)}")


def main() -> None:
    cli(prog_name="ganzoo")
