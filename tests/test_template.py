"""ganzoo new-plugin refuses what would not make a package."""

from __future__ import annotations

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
