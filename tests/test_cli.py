"""The command line as a user meets it: click's CliRunner for output, subprocesses for imports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from ganzoo.cli import cli


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_version_names_ganzoo_and_torch() -> None:
    code, out, _ = run("--version")
    assert code == 0 and out.startswith("ganzoo 0.") and "torch" in out


def test_list_shows_every_kind_with_its_distribution() -> None:
    code, out, _ = run("list")
    assert code == 0
    for text in ("generator", "discriminator", "dataset", "loss", "vanilla-mlp", "mnist", "bce", "ganzoo 0."):
        assert text in out


def test_list_one_kind_as_json() -> None:
    code, out, _ = run("list", "datasets", "--json")
    rows = json.loads(out)
    assert code == 0 and {r["kind"] for r in rows} == {"dataset"}
    mnist = next(r for r in rows if r["name"] == "mnist")
    assert mnist["dist"] == "ganzoo" and mnist["summary"]


def test_list_recipes() -> None:
    code, out, _ = run("list", "recipes", "--json")
    assert code == 0 and any(
        r["name"] == "seed-002-vanilla-mlp-mnist" and r["source"] == "002" for r in json.loads(out)
    )


def test_plugins_all_shows_the_builtins() -> None:
    code, out, _ = run("plugins", "--all", "--json")
    rows = json.loads(out)
    assert code == 0
    assert {r["plugin"] for r in rows if r["builtin"]} >= {"architectures", "datasets", "losses"}
    assert all(r["status"] == "ok" for r in rows)


@pytest.mark.parametrize(
    "argv", [["list"], ["--help"], ["list", "recipes"], ["plugins", "--all"], ["show", "--help"]]
)
def test_light_commands_never_import_torch(argv: list[str]) -> None:
    code = (
        "import sys\n"
        "from ganzoo.cli import cli\n"
        f"try:\n    cli({argv!r}, prog_name='ganzoo')\n"
        "except SystemExit as e:\n    assert not e.code, e.code\n"
        "heavy = [m for m in ('torch', 'torchvision', 'numpy', 'matplotlib') if m in sys.modules]\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
        "sys.exit(1 if heavy else 0)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ.copy())
    assert proc.returncode == 0, proc.stderr


def test_python_dash_m_works() -> None:
    proc = subprocess.run([sys.executable, "-m", "ganzoo", "--version"], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.startswith("ganzoo ")


def test_list_keeps_working_beside_a_broken_plugin_and_says_how_to_remove_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from test_manager import BROKEN, DUPLICATE, make_dist

    monkeypatch.syspath_prepend(str(tmp_path))
    make_dist(tmp_path, "zz-broken", "zz_broken", BROKEN)
    make_dist(tmp_path, "zz-dup", "zz_dup", DUPLICATE)
    code, out, err = run("list")
    assert code == 0
    assert "vanilla-mlp" in out and "zz-dup:vanilla-mlp (ambiguous)" in out
    warning = " ".join(err.split())
    assert "plugin 'zz-broken' from zz-broken 1.0 failed to load" in warning
    assert "GANZOO_DISABLE_PLUGINS=zz-broken" in warning and "pip uninstall zz-broken" in warning
    code, out, _ = run("plugins", "--json")
    rows = {r["dist"]: r for r in json.loads(out)}
    assert rows["zz-broken"]["status"] == "failed" and "missing_dependency" in rows["zz-broken"]["reason"]
    assert rows["zz-dup"]["provides"] == {"generator": 1}
