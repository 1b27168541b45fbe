"""ganzoo new-plugin refuses what would not make a package."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from ganzoo.cli import cli


def test_new_plugin_refuses_a_bad_name_or_an_existing_folder(tmp_path: Path) -> None:
    bad = CliRunner().invoke(cli, ["new-plugin", "Wide_MLP", "--dir", str(tmp_path)])
    assert bad.exit_code == 2 and "is not a plugin name" in bad.stderr
    (tmp_path / "ganzoo-wide-mlp").mkdir()
    taken = CliRunner().invoke(cli, ["new-plugin", "ganzoo-wide-mlp", "--dir", str(tmp_path)])
    assert taken.exit_code == 2 and "already exists" in taken.stderr
    assert not any((tmp_path / "ganzoo-wide-mlp").iterdir())


def test_new_plugin_refuses_a_name_already_registered(
    tmp_path: Path, make_dist: Callable[..., None], site: Path
) -> None:
    from ganzoo.manager import get_manager

    parent = tmp_path / "new"
    builtin = CliRunner().invoke(cli, ["new-plugin", "vanilla-mlp", "--dir", str(parent)])
    message = " ".join(builtin.stderr.split())
    assert builtin.exit_code == 2
    assert "'vanilla-mlp' is already registered (a generator of ganzoo " in message
    assert "a discriminator of ganzoo" in message
    body = """
        from ganzoo import hookimpl

        @hookimpl
        def register_losses(register):
            register("soft-hinge", "ganzoo.plugins.bce:BCE")
    """
    make_dist(site, "zz-soft", "zz_soft", body)
    get_manager(reload=True)  # as a new `ganzoo` process finds it
    installed = CliRunner().invoke(cli, ["new-plugin", "ganzoo-soft-hinge", "--dir", str(parent)])
    assert installed.exit_code == 2 and "(a loss of zz-soft 1.0)" in " ".join(installed.stderr.split())
    assert not parent.exists()  # nothing written
    help_text = " ".join(CliRunner().invoke(cli, ["new-plugin", "--help"]).stdout.split())
    assert "--dir PARENT" in help_text and "PARENT/ganzoo-NAME" in help_text
