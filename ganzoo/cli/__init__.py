"""The ``ganzoo`` command: parses options and presents results; the work happens in ganzoo.api.

One module a command family (tox's way): :mod:`.catalogue` (list, plugins), :mod:`.train`,
:mod:`.sample` (generate, eval), :mod:`.show`, :mod:`.tools` (data, new-plugin, completion);
:mod:`.common` holds what they share, :mod:`ganzoo.present` the tables. This module is the group:
the global options and the edge where ganzoo's errors become one line. Importing it never
imports torch: ``--help``, ``--version`` and ``list`` stay fast.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from ganzoo import env
from ganzoo.cli import catalogue, sample, share, show, sweep, tools, train
from ganzoo.errors import GanzooError, Interrupted, TrainingError
from ganzoo.version import __version__


def _err(message: str, hint: str | None = None) -> None:
    from rich.console import Console
    from rich.markup import escape

    # The message is text, not markup: "[train]" in it must print as written.
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    console.print(f"[bold red]error:[/] {escape(message)}", markup=True)
    if hint:
        console.print(f"[dim]hint: {escape(hint)}[/]")


class GanzooGroup(click.Group):
    """Turns ganzoo's own errors into one red line on stderr and the error's exit status."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except GanzooError as exc:
            # Under torchrun the ranks agree on stops and divergence: rank 0 says it for all.
            if not (isinstance(exc, (Interrupted, TrainingError)) and env.rank() != 0):
                _err(str(exc))
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            _err("interrupted.")
            ctx.exit(130)
        except OSError as exc:  # a full disk, a read-only or missing folder: say which file, no traceback
            # Writes are atomic (ganzoo.files.atomic_path): the file named is as it was before.
            where = f"{exc.filename}: " if exc.filename else ""
            _err(f"cannot read or write {where}{exc.strerror or exc}; that file was left as it was.")
            ctx.exit(1)


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
        from ganzoo import threads

        where = f"cpu ({set_cpu_threads()} threads, as ganzoo trains; OpenMP: {threads.decision})"
    click.echo(f"ganzoo {__version__}")
    click.echo(f"torch {torch.__version__} ({build}), python {sys.version.split()[0]}")
    click.echo(f"device: {where}")
    ctx.exit()


def _disable_plugins(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> None:
    """``-p no:NAME`` (pytest's spelling) adds NAME to GANZOO_DISABLE_PLUGINS for this command."""
    names: list[str] = []
    for value in values:
        if not value.startswith("no:") or not value[3:]:
            raise click.BadParameter(f"expected no:NAME (a plugin or distribution), got {value!r}.")
        names.append(value[3:])
    if names:
        from ganzoo import manager

        # A misspelt name would otherwise disable nothing, silently: the plugin the user meant to
        # switch off still runs. Entry points only: nothing is imported to find their names.
        installed: dict[str, str] = {}
        for ep, dist, _ in manager.installed_plugins():
            installed.update({n.lower(): n for n in (ep.name, dist) if n and n != "unknown"})
        for name in names:
            if name.lower() not in installed:
                known = ", ".join(sorted(set(installed.values()), key=str.lower)) or "none"
                raise click.BadParameter(
                    f"no plugin or distribution named {name} is installed; installed: {known}."
                )

        current = env.DISABLE_PLUGINS.get() or ""
        os.environ[env.DISABLE_PLUGINS.name] = ",".join(filter(None, [current, *names]))
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
    ganzoo train vanilla-mlp mnist     train the zoo's recipe on real MNIST
    ganzoo generate RUN_DIR -o x.png   sample a trained generator
    """


for command in (
    catalogue.list_cmd,
    catalogue.plugins_cmd,
    train.train_cmd,
    sample.generate_cmd,
    sample.eval_cmd,
    show.show_cmd,
    show.compare_cmd,
    share.export_cmd,
    share.report_cmd,
    sweep.sweep_cmd,
    tools.data_group,
    tools.new_plugin_cmd,
    tools.completion_cmd,
):
    cli.add_command(command)


def main() -> None:
    cli(prog_name="ganzoo")
