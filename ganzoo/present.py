"""How the command line shows things to people: rich tables for list, plugins, show, eval and data.

The CLI parses and calls the API; this module turns what came back into tables. Light: rich only.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ganzoo import figures

if TYPE_CHECKING:
    from ganzoo.commands.catalogue import ComponentRow
    from ganzoo.commands.data import DataRow
    from ganzoo.commands.evaluation import Evaluation
    from ganzoo.commands.show import RunInfo

#: Table columns that may fold over lines; names never do.
WRAPPED = {"summary", "status", "where", "provides", "trains", "run it with", "figures"}


def _table(title: str, columns: tuple[str, ...]) -> Table:
    table = Table(title=title)
    for col in columns:
        table.add_column(col, overflow="fold", no_wrap=col not in WRAPPED)
    return table


def components(rows: list[ComponentRow]) -> None:
    """``ganzoo list``: kind, name, summary and who registered each component."""
    table = _table("ganzoo components", ("kind", "name", "summary", "registered by"))
    for r in rows:
        name = r.qualified + " (ambiguous)" if r.ambiguous else r.name
        table.add_row(r.kind, name, r.summary, f"{r.dist} {r.version}")
    Console().print(table)


def recipes(rows: list[dict[str, Any]]) -> None:
    """``ganzoo list recipes``: each recipe, what it trains and the command that runs it."""
    table = _table("zoo.toml recipes", ("name", "trains", "run it with"))
    for r in rows:
        g, d = r["generator"], r["discriminator"]
        arch = g if g == d else f"{g}/{d}"
        loss = f" ({r['loss']})" if r.get("loss") else ""
        table.add_row(r["name"], f"{arch} on {r['dataset']}{loss}", r["command"])
    Console().print(table)
    Console().print(
        "`ganzoo train ARCH DATASET` runs the pair's default recipe; the seed-NNN recipes are the"
        " source documents' settings, unchanged. `ganzoo list recipes --json` adds each summary."
    )


def plugins(rows: list[dict[str, Any]]) -> None:
    """``ganzoo plugins``: each plugin, its distribution, what it provides and whether it loaded."""
    table = _table("ganzoo plugins", ("plugin", "distribution", "provides", "import", "status"))
    for r in rows:
        provides = ", ".join(f"{n} {k}" for k, n in sorted(r["provides"].items())) or "-"
        status = r["status"] + (f": {r['reason']}" if r["reason"] else "")
        # Each flag on a line of its own: "ok" alone means nothing to look at.
        status += "".join(f"\nwarning: {w}" for w in r.get("warnings", []))
        seconds = r.get("import_seconds")
        took = (
            "-" if seconds is None else f"{seconds:.2f} s" + (" (torch)" if r.get("imported_torch") else "")
        )
        table.add_row(r["plugin"], f"{r['dist']} {r['version']}", provides, took, escape(status))
    Console().print(table)


#: A sine generator's headline in `ganzoo list pretrained`: how many curves are sines, and how well
#: their frequencies and phases match the test curves' (Kolmogorov–Smirnov distances). Short captions:
#: the figures column of that table has 18 characters in 80 columns, and "frequency KS 0.0977" would fold.
SINE_HEADLINE = {"sine_share": "sines", "sine_frequency_ks": "freq. KS", "sine_phase_ks": "phase KS"}


def _three_figures(value: float) -> str:
    """Three significant figures, keeping a trailing zero (FD 39.0 beside FD 51.2, not FD 39); a
    count stays a whole number."""
    if isinstance(value, int):
        return str(value)
    return f"{value:#.3g}".rstrip(".")


def pretrained(rows: list[dict[str, Any]]) -> None:
    """``ganzoo list pretrained``: each shipped generator, its recipe, its figures, size and shipper."""
    # The recipe goes under the name, and only where it is not the name (a column of its own, or a
    # line repeating the name, leaves the figures no room in 80 columns); one figure a line.
    table = _table("pretrained generators", ("name", "figures", "size", "shipped by"))
    captions = {**figures.EVAL_HEADLINE, **SINE_HEADLINE}
    for r in rows:
        words = "\n".join(
            f"{captions[k]} {_three_figures(v)}"
            for k, v in r["figures"].items()
            if k in captions and isinstance(v, (int, float))
        )
        differs = r["recipe"] and r["recipe"] != r["name"]
        name = f"{r['name']}\n[dim]recipe {r['recipe']}[/]" if differs else r["name"]
        table.add_row(name, words, _size(r["bytes"]), f"{r['dist']} {r['version']}")
    Console().print(table)
    if not rows:
        Console().print("No pretrained generator is installed.", highlight=False)
    else:
        Console().print(
            "Use a name wherever a run is accepted: `ganzoo generate NAME -o grid.png`, `ganzoo eval NAME`, "
            "`ganzoo train ARCH DATASET --init NAME`.",
            highlight=False,
            markup=False,
        )


def datasets(rows: list[DataRow]) -> None:
    """``ganzoo data list``: whether each dataset's files are present, and where."""
    table = _table("ganzoo datasets", ("dataset", "present", "where"))
    for r in rows:
        table.add_row(r.name, "yes" if r.present else "no", r.where)
    Console().print(table)


def evaluation(result: Evaluation, run: Path) -> None:
    """``ganzoo eval``: the figures, then the protocol they were measured with."""
    table = Table(title=f"ganzoo eval {run}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in result.metrics.items():
        if key != "class_shares":
            table.add_row(result.labels.get(key) or figures.label(key), str(value))
    console = Console()
    console.print(table)
    protocol = "; ".join(f"{k}: {v}" for k, v in result.protocol.items())
    console.print(f"generator: {result.generator}; {protocol}", highlight=False, soft_wrap=True, markup=False)


def comparison(result: dict[str, Any]) -> None:
    """``ganzoo compare``: the runs side by side, a column a run and a row a setting or figure
    (a table of many differing settings stays readable); each ranked row's best value starred."""
    from ganzoo.compare import BETTER, label

    runs, rows, best = result["runs"], result["rows"], result["best"]
    table = Table(title="ganzoo compare")
    table.add_column("", style="bold")
    for r in runs:
        table.add_column(escape(r["name"]), justify="right", overflow="fold")
    for column in result["columns"][1:]:
        cells = []
        for i, row in enumerate(rows):
            text = _cell(row.get(column))
            cells.append(f"[bold green]{text} *[/]" if best.get(column) == i else text)
        table.add_row(escape(label(column)), *cells)
    console = Console()
    console.print(table)
    if best:
        words = ", ".join(f"{label(c)} {BETTER[c.removeprefix('eval.')]}" for c in best)
        console.print(f"* the best of its row ({words} is better).", highlight=False, markup=False)
    if "note" in result:
        console.print(result["note"], highlight=False, markup=False)
    if "grid" in result:
        console.print(f"samples side by side, a row a run: {result['grid']}", highlight=False, markup=False)


def _cell(value: Any) -> str:
    """A table cell: numbers to 4 significant digits, nothing as "-"."""
    if value is None:
        return "-"
    if isinstance(value, bool) or not isinstance(value, float):
        return escape(str(value))
    return f"{value:.4g}"


def run_summary(info: RunInfo, image: bool | None = None) -> None:
    """``ganzoo show``: a run's recipe, progress, figures and files; its latest grid on a terminal."""
    table = Table(title=f"ganzoo run {info.run_dir}", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    steps = f"{info.steps:,} of {info.iterations:,}" if info.iterations else f"{info.steps:,}"
    status = info.status + (f" (resume: {info.resume})" if info.resume else "")
    if info.damage:  # what is wrong and what to do, in the row a user reads first
        status = f"{info.status}: {info.damage} {info.fix}"
    shape = "x".join(map(str, info.data["shape"] or []))
    world = f" x {info.world_size}" if info.world_size > 1 else ""
    streamed = " (streamed from disk: a resume draws fresh batches, not bit for bit)" if info.streamed else ""
    rows = [
        ("status", status),
        ("recipe", str(info.recipe)),
        ("networks", f"G {info.generator}, D {info.discriminator}, loss {info.loss}"),
        ("data", f"{info.dataset}: {info.data['size']:,} samples of {shape}{streamed}"),
    ]
    if info.init:  # fine-tuned: what G and D started from
        d = (
            f" and D ({info.init['discriminator']})"
            if info.init.get("discriminator")
            else " (D from scratch)"
        )
        rows.append(("started from", f"{info.init['from']}: G ({info.init['generator']}){d}"))
    if info.conditional:  # a conditional run: the classes it can be asked for
        classes = info.conditional
        shown = ", ".join(classes[:12]) + (f" and {len(classes) - 12} more" if len(classes) > 12 else "")
        rows.append(("conditional", f"on {len(classes)} classes: {shown}"))
    rows += [
        ("iterations", steps),
        ("time", f"{info.seconds:.1f} s" if info.seconds is not None else "-"),
        ("seed, device", f"{info.seed}, {info.device}{world}"),
    ]
    if info.last:
        rows.append(("last figures", figures.line(info.last)))
    if info.log_skipped:
        n = info.log_skipped
        rows.append(("log", f"{n} damaged line{'s' if n != 1 else ''} of metrics.jsonl skipped"))
    if info.eval:
        numbers = {k: v for k, v in info.eval.items() if isinstance(v, (int, float))}
        rows.append(("eval", "  ".join(f"{figures.label(k)} {v:.4g}" for k, v in numbers.items())))
    grids = [f for f in info.files if f.startswith("samples/step-")]
    listed = [
        f"{name} ({_size(size)})" for name, size in info.files.items() if not name.startswith("samples/step-")
    ]
    rows.append(("files", ", ".join(listed) + (f", samples/: {len(grids)} grids" if grids else "")))
    rows.append(("latest grid", info.latest_grid or "-"))
    for key, value in rows:
        table.add_row(key, value)
    console = Console(highlight=False, soft_wrap=False)
    console.print(table)
    draw = console.is_terminal if image is None else image
    if draw and info.latest_grid:
        from ganzoo.plots import grid_as_text

        console.print(grid_as_text(Path(info.latest_grid), min(console.width - 1, 96)))


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB"):
        if size < 1024:
            return f"{size:.0f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"
