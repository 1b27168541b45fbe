"""Plugin loading with real throwaway distributions (a dist-info folder and a module on sys.path)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from ganzoo.errors import AmbiguousComponentError, PluginError
from ganzoo.manager import get_manager

GOOD = """
    from ganzoo import hookimpl

    @hookimpl
    def register_losses(register):
        register("fancy-loss", "ganzoo.plugins.bce:BCE", "A loss from a third party.")
"""
BROKEN = """
    raise ImportError("No module named 'missing_dependency'")
"""
DUPLICATE = """
    from ganzoo import hookimpl

    @hookimpl
    def register_generators(register):
        register("vanilla-mlp", "ganzoo.plugins.vanilla_mlp:Generator", "A second vanilla-mlp.")
"""
BAD_HOOK_ARG = """
    from ganzoo import hookimpl

    @hookimpl
    def register_losses(register, not_a_hook_argument):
        pass
"""
BAD_NAME = """
    from ganzoo import hookimpl

    @hookimpl
    def register_losses(register):
        register("Bad_Name", "ganzoo.plugins.bce:BCE")
"""


def statuses() -> dict[str, tuple[str, str]]:
    return {p.info.dist: (p.status, p.reason) for p in get_manager(reload=True).plugins}


def test_builtins_load_through_the_entry_point_group() -> None:
    m = get_manager(reload=True)
    builtin = [p for p in m.plugins if p.info.builtin]
    assert {p.info.name for p in builtin} >= {"architectures", "datasets", "losses"}
    assert all(p.status == "ok" for p in builtin)
    assert {e.name for e in m.registry.entries()} >= {"vanilla-mlp", "mnist", "bce"}


def test_a_broken_plugin_is_recorded_and_hides_nothing(make_dist: Callable[..., None], site: Path) -> None:
    make_dist(site, "zz-broken", "zz_broken", BROKEN)
    make_dist(site, "zz-good", "zz_good", GOOD)
    st = statuses()
    assert st["zz-broken"][0] == "failed"
    assert "missing_dependency" in st["zz-broken"][1]
    assert st["zz-good"] == ("ok", "")
    names = {e.name for e in get_manager().registry.entries()}
    assert {"fancy-loss", "vanilla-mlp", "bce"} <= names


def test_strict_mode_reraises_for_plugin_authors(
    make_dist: Callable[..., None], site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_dist(site, "zz-broken", "zz_broken", BROKEN)
    monkeypatch.setenv("GANZOO_STRICT_PLUGINS", "1")
    with pytest.raises(PluginError, match="zz-broken"):
        get_manager(reload=True)


def test_a_duplicate_name_is_kept_and_must_be_qualified(make_dist: Callable[..., None], site: Path) -> None:
    make_dist(site, "zz-dup", "zz_dup", DUPLICATE)
    reg = get_manager(reload=True).registry
    assert [e.plugin.dist for e in reg.entries("generator") if e.name == "vanilla-mlp"] == [
        "ganzoo",
        "zz-dup",
    ]
    with pytest.raises(AmbiguousComponentError, match="'ganzoo:vanilla-mlp' and 'zz-dup:vanilla-mlp'"):
        reg.get("generator", "vanilla-mlp")
    assert reg.get("generator", "zz-dup:vanilla-mlp").summary == "A second vanilla-mlp."


def test_allow_list_empty_means_no_third_party_plugins(
    make_dist: Callable[..., None], site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_dist(site, "zz-good", "zz_good", GOOD)
    monkeypatch.setenv("GANZOO_PLUGINS", "")
    assert statuses()["zz-good"][0] == "blocked"
    assert "fancy-loss" not in get_manager().registry.names("loss")
    monkeypatch.setenv("GANZOO_PLUGINS", "zz-good")
    assert statuses()["zz-good"][0] == "ok"


def test_block_list_disables_one_plugin(
    make_dist: Callable[..., None], site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_dist(site, "zz-good", "zz_good", GOOD)
    monkeypatch.setenv("GANZOO_DISABLE_PLUGINS", "zz-good")
    assert statuses()["zz-good"] == ("blocked", "listed in GANZOO_DISABLE_PLUGINS")


def test_a_hook_with_an_unknown_argument_fails_that_plugin_only(
    make_dist: Callable[..., None], site: Path
) -> None:
    make_dist(site, "zz-badarg", "zz_badarg", BAD_HOOK_ARG)
    status, reason = statuses()["zz-badarg"]
    assert status == "failed" and "not_a_hook_argument" in reason
    assert "bce" in get_manager().registry.names("loss")


def test_an_invalid_component_name_fails_that_plugin(make_dist: Callable[..., None], site: Path) -> None:
    make_dist(site, "zz-badname", "zz_badname", BAD_NAME)
    status, reason = statuses()["zz-badname"]
    assert status == "failed" and "kebab-case" in reason


def test_an_entry_point_naming_a_missing_module_fails_that_plugin_only(site: Path) -> None:
    info = site / "zz_ghost-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: zz-ghost\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[ganzoo]\nghost = zz_ghost_was_never_installed\n")
    status, reason = statuses()["zz-ghost"]
    assert status == "failed" and "No module named 'zz_ghost_was_never_installed'" in reason
    assert "bce" in get_manager().registry.names("loss")


def test_trace_says_which_plugin_answered_which_hook(
    make_dist: Callable[..., None],
    site: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    make_dist(site, "zz-good", "zz_good", GOOD)
    monkeypatch.setenv("GANZOO_TRACE_PLUGINS", "1")
    get_manager(reload=True)
    err = capsys.readouterr().err
    assert "ganzoo: register_losses answered by zz-good (zz-good 1.0): fancy-loss" in err
    assert "register_generators answered by architectures (ganzoo " in err


def test_dash_p_no_name_disables_a_plugin_for_one_command(make_dist: Callable[..., None], site: Path) -> None:
    from click.testing import CliRunner

    from ganzoo.cli import cli

    make_dist(site, "zz-good", "zz_good", GOOD)
    get_manager(reload=True)
    listed = CliRunner().invoke(cli, ["-p", "no:zz-good", "plugins", "--json"])
    assert listed.exit_code == 0, listed.stderr
    rows = {r["dist"]: r for r in json.loads(listed.stdout)}
    assert rows["zz-good"]["status"] == "blocked"
    bad = CliRunner().invoke(cli, ["-p", "zz-good", "list"])
    assert bad.exit_code == 2 and "expected no:NAME" in bad.stderr
