"""``ganzoo data``, ``ganzoo new-plugin`` and ``ganzoo completion``: datasets, plugin packages, shells."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.group("data")
def data_group() -> None:
    """Fetch datasets into the cache, and see where each one is."""


@data_group.command("list")
@click.option("--data-dir", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True)
def data_list_cmd(data_dir: Path | None, as_json: bool) -> None:
    """Each dataset: whether its files are present, and where."""
    from ganzoo import present
    from ganzoo.api import data_status

    rows = data_status(data_dir=data_dir)
    if as_json:
        click.echo(json.dumps([r.to_json() for r in rows], indent=2))
    else:
        present.datasets(rows)


@data_group.command("fetch")
@click.argument("name")
@click.option("--data-dir", type=click.Path(path_type=Path))
def data_fetch_cmd(name: str, data_dir: Path | None) -> None:
    """Download NAME into the cache (or find it in --data-dir) so later runs need no network."""
    from ganzoo.api import data_fetch

    click.echo(f"{name}: {data_fetch(name, data_dir)}")


@click.command("new-plugin")
@click.argument("name")
@click.option(
    "--dir",
    "parent",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("."),
    show_default=True,
    metavar="PARENT",
    help="The folder to create the package in: it is written to PARENT/ganzoo-NAME (created if missing).",
)
def new_plugin_cmd(name: str, parent: Path) -> None:
    """Write a pip-installable plugin package for NAME (an example architecture, a test, a README).

    NAME is the architecture's name (wide-mlp) or the distribution's (ganzoo-wide-mlp); a name a
    built-in or an installed plugin already registers is refused.
    """
    from ganzoo.manager import get_manager
    from ganzoo.template import names, new_plugin

    root = new_plugin(name, parent, get_manager().registry)
    component = names(name)[2]
    click.echo(f"wrote {root}")
    click.echo(f"next: cd {root} && pip install -e '.[test]' && pytest && ganzoo train {component} mnist")


@click.command("completion")
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
    root = click.get_current_context().find_root().command
    click.echo(cls(root, {}, "ganzoo", "_GANZOO_COMPLETE").source(), nl=False)
