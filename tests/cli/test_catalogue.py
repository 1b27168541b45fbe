"""ganzoo list and ganzoo plugins: every kind with its distribution, as tables and JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from ganzoo.cli import cli


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


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


def test_list_recipes_says_the_command_that_runs_each() -> None:
    code, out, _ = run("list", "recipes", "--json")
    rows = {r["name"]: r for r in json.loads(out)}
    assert code == 0 and rows["seed-002-vanilla-mlp-mnist"]["source"] == "002"
    # The pair's default runs without --recipe; a source recipe beside it needs its name.
    assert rows["dcgan-mnist"]["default"] and rows["dcgan-mnist"]["command"] == "ganzoo train dcgan mnist"
    seed = rows["seed-001-dcgan-mnist"]
    assert not seed["default"]
    assert seed["command"] == "ganzoo train dcgan mnist --recipe seed-001-dcgan-mnist"
    code, table, _ = run("list", "recipes")
    assert code == 0 and "seed-001-dcgan-fashion-mnist" in table and "--recipe" in table


def test_plugins_all_shows_the_builtins() -> None:
    code, out, _ = run("plugins", "--all", "--json")
    rows = json.loads(out)
    assert code == 0
    assert {r["plugin"] for r in rows if r["builtin"]} >= {"architectures", "datasets", "losses"}
    assert all(r["status"] == "ok" for r in rows)


def test_list_keeps_working_beside_a_broken_plugin_and_says_how_to_remove_it(
    make_dist: Callable[..., None], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))
    make_dist(tmp_path, "zz-broken", "zz_broken", 'raise ImportError("No module named missing_dependency")')
    duplicate = """
        from ganzoo import hookimpl

        @hookimpl
        def register_generators(register):
            register("vanilla-mlp", "ganzoo.plugins.vanilla_mlp:Generator", "A second vanilla-mlp.")
    """
    make_dist(tmp_path, "zz-dup", "zz_dup", duplicate)
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


def test_plugins_flags_a_plugin_that_registers_nothing_shadows_a_builtin_or_imports_torch(
    tmp_path: Path, make_dist: Callable[..., None]
) -> None:
    """In a fresh process, as a user runs it: only then can it tell that a plugin imported torch."""
    make_dist(tmp_path, "zz-unmarked", "zz_unmarked", "def register_losses(register):\n    pass\n")
    shadow = """
        from ganzoo import hookimpl

        @hookimpl
        def register_losses(register):
            register("hinge", "ganzoo.plugins.bce:BCE")
    """
    make_dist(tmp_path, "zz-shadow", "zz_shadow", shadow)
    make_dist(
        tmp_path, "zz-heavy", "zz_heavy", "import torch\n" + textwrap.dedent(shadow).replace("hinge", "heavy")
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "COLUMNS": "200", "GANZOO_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "ganzoo", "plugins", "--json"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    rows = {r["dist"]: r for r in json.loads(done.stdout)}
    assert all(r["status"] == "ok" for r in rows.values())
    assert "register_losses() is not marked with @ganzoo.hookimpl" in rows["zz-unmarked"]["warnings"][0]
    assert rows["zz-shadow"]["shadows"] == [{"kind": "loss", "name": "hinge", "also": ["ganzoo"]}]
    assert "'ganzoo:hinge'" in rows["zz-shadow"]["warnings"][0]
    heavy = rows["zz-heavy"]
    assert heavy["imported_torch"] and heavy["import_seconds"] > 0
    assert not rows["zz-shadow"]["imported_torch"] and rows["zz-shadow"]["import_seconds"] < 0.25
    assert (
        "importing torch" in heavy["warnings"][0]
        and "keep the entry-point module light" in heavy["warnings"][0]
    )
    table = subprocess.run(
        [sys.executable, "-m", "ganzoo", "plugins"], env=env, capture_output=True, text=True
    )
    shown = " ".join(table.stdout.split())
    assert (
        "(torch)" in shown and "warning: shadows the loss 'hinge'" in shown and "registers nothing" in shown
    )
