"""What the commands share: name completion, a positive-number check, the broken-plugin warning."""

from __future__ import annotations

from typing import Any

import click

from ganzoo import env
from ganzoo.errors import GanzooError

DEVICE_HELP = f"cpu (default), cuda, cuda:N, mps or auto; ${env.DEVICE.name} when set."


def warn_failed_plugins() -> None:
    from ganzoo.manager import get_manager

    for p in get_manager().failures():
        info = p.info
        click.echo(
            f"warning: plugin '{info.name}' from {info.dist} {info.version} failed to load ({p.reason}); "
            f"disable it with {env.DISABLE_PLUGINS.name}={info.name} "
            f"or remove it with `pip uninstall {info.dist}`.",
            err=True,
        )


def complete(kind: str) -> Any:
    """Shell completion of component (or recipe) names, from the registry: no torch is imported."""

    def complete(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
        from click.shell_completion import CompletionItem

        try:
            if kind == "recipe":
                from ganzoo.recipes import load_recipes

                names = [(name, r.summary) for name, r in load_recipes().items()]
            else:
                from ganzoo.api import list_components

                names = [(c.name, c.summary) for c in list_components(kind)]
        except GanzooError:  # a broken zoo.toml or plugin: no suggestions rather than a traceback
            return []
        return [CompletionItem(n, help=h) for n, h in sorted(set(names)) if n.startswith(incomplete)]

    return complete


def positive(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    if value is not None and value <= 0:
        raise click.BadParameter(f"must be positive, got {value}.")
    return value
