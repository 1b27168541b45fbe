"""``ganzoo sweep SPEC.toml`` (run a sweep, or join one) and ``ganzoo sweep show DIR|URL``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ganzoo import env


class SweepGroup(click.Group):
    """``ganzoo sweep SPEC`` runs a spec; ``ganzoo sweep show ...`` is the one subcommand."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


@click.group("sweep", cls=SweepGroup, subcommand_metavar="SPEC.toml [OPTIONS] | show TARGET")
def sweep_cmd() -> None:
    """Train variants of a run over seeds and rank them: SPEC.toml names the base, a grid, a list or
    a search space, the seeds and the figure (docs/guide.md, "Sweep"). Run it again to continue it;
    run it on several machines with one --storage to share it.

    \b
    ganzoo sweep lr.toml                          run (or continue) the sweep in sweeps/lr
    ganzoo sweep lr.toml --workers 2              two trials at once, the cores split between them
    ganzoo sweep lr.toml --storage postgresql://user:pw@host/db   join a shared sweep
    ganzoo sweep show sweeps/lr                   its table again
    ganzoo sweep lr.toml --help                   the options of a run (--out, --storage, --workers, ...)
    """


def _default_folder(name: str) -> Path:
    """sweeps/NAME, under $GANZOO_HOME when it is set (as runs/ is)."""
    return Path(env.HOME.get() or ".") / "sweeps" / name


@sweep_cmd.command("run", hidden=True)
@click.argument("spec", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), help="The sweep's folder (default sweeps/NAME).")
@click.option("--storage", help="Optuna's storage URL (default: an SQLite file in the folder).")
@click.option("--workers", type=int, default=1, show_default=True, help="Trials at once on this machine.")
@click.option("--threads", type=int, help="CPU threads per trial (default: the cores / --workers).")
@click.option(
    "--tracker", multiple=True, type=click.Choice(["mlflow", "wandb"]), help="Log each trial to it."
)
@click.option("--json", "as_json", is_flag=True, help="Print the table as JSON at the end.")
def run_cmd(
    spec: Path, out: Path | None, storage: str | None, workers: int, threads: int | None,
    tracker: tuple[str, ...], as_json: bool,
) -> None:  # fmt: skip
    """Run (or continue, or join) the sweep SPEC."""
    from dataclasses import replace

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ganzoo import sweep

    parsed = sweep.read_spec(spec)
    if tracker:
        parsed = replace(parsed, tracker=tuple(dict.fromkeys((*parsed.tracker, *tracker))))
    folder = out or _default_folder(parsed.name)
    console = Console(stderr=True, highlight=False)
    progress = Progress(
        TextColumn("[bold]sweep {task.fields[name]}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, disable=as_json,
    )  # fmt: skip

    def landed(t: sweep.Landed) -> None:
        shown = f"{parsed.figure} {t.value:.4g}" if t.value is not None else t.state
        progress.console.print(f"trial {t.number} {t.label}: {shown}")
        progress.advance(task)

    runner = sweep.Sweep(parsed, folder, storage, workers, threads, on_landed=landed)
    study = runner.prepare()
    from optuna.trial import TrialState

    ended = (TrialState.COMPLETE, TrialState.PRUNED)
    done = len([t for t in study.get_trials(deepcopy=False, states=ended) if "label" in t.user_attrs])
    with progress:
        task = progress.add_task("trials", total=parsed.planned(), completed=done, name=parsed.name)
        runner.run()
    table = sweep.result(runner.study)
    _report(table, folder, console)
    _print(table, as_json)


def _report(table: dict[str, Any], folder: Path, console: Any) -> None:
    """``ganzoo report`` of the best variants' runs (up to three), as DIR/report.html."""
    from ganzoo.errors import GanzooError
    from ganzoo.report import report

    runs = [Path(r["runs"][0]) for r in table["rows"] if r["runs"] and Path(r["runs"][0]).is_dir()][:3]
    if not runs:
        return
    try:
        path = report(runs, folder / "report.html")
    except GanzooError as exc:
        console.print(f"note: no report of the best trials ({exc})")
        return
    console.print(f"report of the best {len(runs)}: {path}")


@sweep_cmd.command("show")
@click.argument("target")
@click.option("--study", help="The sweep's name, when the storage holds several.")
@click.option("--json", "as_json", is_flag=True, help="Print the table as JSON.")
def show_cmd(target: str, study: str | None, as_json: bool) -> None:
    """The table of the sweep in folder TARGET, or in the storage URL TARGET."""
    from ganzoo import sweep

    _print(sweep.result(sweep.load(target, study)), as_json)


def _print(table: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(table, indent=1))
        return
    from rich.console import Console
    from rich.table import Table

    figure, rows = table["figure"], table["rows"]
    better = "lower" if table["direction"] == "minimize" else "higher"
    shown = Table(title=f"sweep {table['study']}: {figure} ({better} is better)")
    others = ["train_s", "fd", "recall", "precision", "classes_covered", "mmd", "sine_share"]
    others = [k for k in others if k != figure]
    others = [k for k in others if any(k in r["figures"] for r in rows)]
    for col in ("variant", f"{figure} mean ± sd", "seeds", *others, "pruned"):
        shown.add_column(col)
    for r in rows:
        value = "—" if r["mean"] is None else f"{r['mean']:.4g} ± {r['std']:.2g}"
        mark = " (best)" if r["best"] else ""
        cells = [f"{r['label']}{mark}", value, str(r["n"])]
        cells += [f"{r['figures'][k]:.4g}" if k in r["figures"] else "" for k in others]
        extra = (
            f"{r['pruned']}"
            + (f", {r['running']} to run" if r["running"] else "")
            + (f", {r['failed']} failed" if r["failed"] else "")
        )
        shown.add_row(*cells, extra)
    Console(highlight=False).print(shown)
