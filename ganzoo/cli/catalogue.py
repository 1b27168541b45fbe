"""``ganzoo list`` and ``ganzoo plugins``: what is installed, and who registered it."""

from __future__ import annotations

import json
from typing import Any

import click

from ganzoo.cli.common import warn_failed_plugins
from ganzoo.registry import PLURALS

LIST_KINDS = [*PLURALS, "recipes"]


@click.command("list")
@click.argument("kind", required=False, type=click.Choice(LIST_KINDS))
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_cmd(kind: str | None, as_json: bool) -> None:
    """List registered components (or the zoo's recipes) with who registered them."""
    from ganzoo import present

    if kind == "pretrained":  # the trained generators installed packages ship
        from ganzoo.pretrained import available

        shipped = [p.to_row() for p in available().values()]
        warn_failed_plugins()
        if as_json:
            click.echo(json.dumps(shipped, indent=2))
        else:
            present.pretrained(shipped)
        return
    if kind == "recipes":
        from ganzoo.recipes import find_recipe, load_recipes

        recipes = load_recipes()
        rows = []
        for r in recipes.values():
            c = r.components
            default = find_recipe(recipes, c["generator"], c["dataset"]) is r
            command = f"ganzoo train {c['generator']} {c['dataset']}"
            rows.append(
                {
                    "name": r.name,
                    "source": r.source,
                    "summary": r.summary,
                    **c,
                    "default": default,
                    "command": command if default else f"{command} --recipe {r.name}",
                }
            )
        if as_json:
            click.echo(json.dumps(rows, indent=2))
        else:
            present.recipes(rows)
        return
    from ganzoo.api import list_components

    components = list_components(PLURALS[kind] if kind else None)
    warn_failed_plugins()
    if as_json:
        click.echo(json.dumps([c.to_json() for c in components], indent=2))
    else:
        present.components(components)


@click.command("plugins")
@click.option("--all", "show_all", is_flag=True, help="Include ganzoo's built-in plugins.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def plugins_cmd(show_all: bool, as_json: bool) -> None:
    """Show each plugin: distribution, version, what it provides, and whether it loaded.

    A plugin that loaded is flagged when it registers nothing (say, hooks without @ganzoo.hookimpl),
    when it registers a name another distribution has (the short name is then ambiguous), and when
    its entry-point module is slow to import (every ganzoo command pays for it).
    """
    from ganzoo import present
    from ganzoo.manager import get_manager

    manager = get_manager()
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
            "import_seconds": None if p.import_seconds is None else round(p.import_seconds, 4),
            "imported_torch": p.imported_torch,
            "shadows": [
                {"kind": kind, "name": name, "also": [o.dist for o in others]}
                for kind, name, others in manager.shadows(p.info)
            ],
            "warnings": manager.warnings(p),
        }
        for p in manager.plugins
        if show_all or not p.info.builtin
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
    elif not rows:
        click.echo("No third-party plugins installed (`ganzoo plugins --all` shows the built-ins).")
    else:
        present.plugins(rows)
