"""``ganzoo report RUN... -o report.html``: one self-contained HTML page about one or more runs.

No network and no script: the styles are inline and every picture is a ``data:`` URI. For each run:
its sample grids over training (at most :data:`MAX_GRIDS`, evenly spaced, the last included), its
loss curves, its eval figures over training (``--eval-every``) and its last ``ganzoo eval``, and its
settings; across runs, ``ganzoo compare``'s table with the best values marked.
"""

from __future__ import annotations

import base64
import html
import json
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ganzoo.errors import UsageError

if TYPE_CHECKING:
    from ganzoo.commands.show import RunInfo

#: Sample grids a run shows at most, evenly spaced over training (the last always among them).
MAX_GRIDS = 8

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
h1, h2, h3 { font-weight: 600; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
td.best { font-weight: bold; color: #11632b; }
figure { display: inline-block; margin: 0 1em 1em 0; text-align: center; }
figure img { image-rendering: pixelated; border: 1px solid #ddd; }
figcaption { font-size: 0.8em; color: #555; }
section.run { border-top: 2px solid #ddd; margin-top: 2em; }
"""


def _image(path: Path, alt: str, width: int | None = None) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    size = f' width="{width}"' if width else ""
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}"{size}>'


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and not isinstance(value, bool):
        return f"{value:.4g}"
    return html.escape(str(value))


def _table(header: list[str], rows: list[list[str]], cls: str) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(row) + "</tr>" for row in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _grids(run: Any) -> list[Path]:
    from ganzoo import rundir

    grids = sorted(run.file(rundir.SAMPLES).glob("step-*.png"))
    if len(grids) <= MAX_GRIDS:
        return grids
    picks = {round(i * (len(grids) - 1) / (MAX_GRIDS - 1)) for i in range(MAX_GRIDS)}
    return [grids[i] for i in sorted(picks)]


def _run_section(index: int, path: Path, info: RunInfo, scratch: Path) -> str:
    from ganzoo import figures, rundir
    from ganzoo.compare import settings_of
    from ganzoo.rundir import Run

    run = Run.open(path)
    name = html.escape(path.name or str(path))
    parts = [f'<section class="run" id="run-{index}"><h2>{name}</h2>']
    parts.append(
        f"<p>{html.escape(info.generator)} / {html.escape(info.discriminator)} on "
        f"{html.escape(info.dataset)}, loss {html.escape(info.loss)}, recipe "
        f"{html.escape(str(info.recipe))}: {info.steps:,} iterations, {info.status}.</p>"
    )
    grids = _grids(run)
    if grids:
        parts.append('<h3>Samples over training</h3><div class="grids">')
        for grid in grids:
            step = int(grid.stem.removeprefix("step-"))
            parts.append(f"<figure>{_image(grid, f'{name} samples at step {step}', 200)}"
                         f"<figcaption>step {step:,}</figcaption></figure>")  # fmt: skip
        parts.append("</div>")
    losses = run.file(rundir.LOSSES)
    if not losses.is_file() and run.file(rundir.LOG).is_file():  # an unfinished run: draw them now
        from ganzoo.plots import plot_losses

        losses = scratch / f"losses-{index}.png"
        plot_losses(run.file(rundir.LOG), losses)
    if losses.is_file():
        parts.append(f"<h3>Loss curves</h3>{_image(losses, f'{name} loss curves', 900)}")
    lines = rundir.read_log(run.file(rundir.LOG))
    evals = [(row.get("step"), row["eval"]) for row in lines if isinstance(row.get("eval"), dict)]
    if evals:
        keys = [k for k in evals[-1][1] if not isinstance(evals[-1][1][k], list)]
        rows = [
            [f"<td>{_cell(step)}</td>", *(f"<td>{_cell(e.get(k))}</td>" for k in keys)] for step, e in evals
        ]
        parts.append("<h3>Eval figures over training</h3>")
        parts.append(_table(["step", *(figures.label(k) for k in keys)], rows, "evals"))
    if info.eval:
        last = {k: v for k, v in info.eval.items() if not isinstance(v, list)}
        rows = [
            [f"<td>{html.escape(figures.label(k))}</td>", f"<td>{_cell(v)}</td>"] for k, v in last.items()
        ]
        parts.append(f"<h3>Last eval ({html.escape(str(info.eval_by))})</h3>")
        parts.append(_table(["figure", "value"], rows, "eval"))
    settings = settings_of(run.record)
    rows = [[f"<td>{html.escape(k)}</td>", f"<td>{_cell(json.dumps(v) if isinstance(v, list) else v)}</td>"]
            for k, v in settings.items()]  # fmt: skip
    parts.append(f"<h3>Settings</h3>{_table(['setting', 'value'], rows, 'settings')}</section>")
    return "".join(parts)


def _comparison(result: dict[str, Any]) -> str:
    from ganzoo.compare import label

    header = ["", *(r["name"] for r in result["runs"])]
    rows = []
    for column in result["columns"][1:]:
        cells = [f"<td>{html.escape(label(column))}</td>"]
        for i, row in enumerate(result["rows"]):
            best = result["best"].get(column) == i
            cells.append(
                f'<td class="best">{_cell(row.get(column))} ★</td>'
                if best
                else f"<td>{_cell(row.get(column))}</td>"
            )
        rows.append(cells)
    note = f"<p>{html.escape(result['note'])}</p>" if "note" in result else ""
    return (
        "<h2>The runs side by side</h2>"
        + _table(header, rows, "compare")
        + note
        + ("<p>★ the best of its row, where a figure has a better direction.</p>")
    )


def report(runs: list[Path], out: Path) -> Path:
    """Write the report of ``runs`` to ``out`` (an .html file, written whole or not at all)."""
    from ganzoo.commands.show import show
    from ganzoo.compare import compare
    from ganzoo.files import atomic_write_text

    out = Path(out)
    if out.suffix.lower() not in (".html", ".htm"):
        raise UsageError(f"-o {out}: report writes an .html file.")
    if not runs:
        raise UsageError("report needs at least one run: ganzoo report RUN... -o report.html.")
    infos = [show(r) for r in runs]
    title = "ganzoo report: " + ", ".join(Path(r).name for r in runs)
    body = [f"<h1>{html.escape(title)}</h1>"]
    if len(runs) > 1:
        body.append(_comparison(compare(list(runs))))
    with tempfile.TemporaryDirectory() as scratch:
        body += [
            _run_section(i, Path(r), info, Path(scratch))
            for i, (r, info) in enumerate(zip(runs, infos, strict=True))
        ]
    page = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>"
        + "".join(body)
        + "</body></html>\n"
    )
    atomic_write_text(out, page)
    return out
