"""Plugin loading with real throwaway distributions (a dist-info folder and a module on sys.path)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from ganzoo.errors import AmbiguousComponentError, PluginError
from ganzoo.manager import SLOW_IMPORT_S, PluginStatus, get_manager

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
    with pytest.raises(AmbiguousComponentError) as err:
        reg.get("generator", "vanilla-mlp")
    assert "registered by both ganzoo " in str(err.value) and "and zz-dup 1.0" in str(err.value)
    assert "'ganzoo:vanilla-mlp' (the built-in) or 'zz-dup:vanilla-mlp'" in str(err.value)
    assert "ganzoo -p no:zz-dup" in str(err.value)
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
    # A misspelt name would disable nothing: refused, with what could be disabled.
    typo = CliRunner().invoke(cli, ["-p", "no:zz-goof", "list"])
    message = " ".join(typo.stderr.split())
    assert typo.exit_code == 2 and "no plugin or distribution named zz-goof is installed" in message
    assert "zz-good" in message and "losses" in message
    case = CliRunner().invoke(cli, ["-p", "no:ZZ-Good", "plugins", "--json"])  # names are case-blind
    assert case.exit_code == 0 and json.loads(case.stdout)[0]["status"] == "blocked"


UNMARKED = """
    def register_generators(register):  # @hookimpl forgotten
        register("forgotten", "ganzoo.plugins.vanilla_mlp:Generator")

    def register_loss(register):  # and a near miss of register_losses
        register("forgotten", "ganzoo.plugins.bce:BCE")

    def registered_names():  # not a hook, and not flagged
        return []
"""
NOTHING = """
    from ganzoo import hookimpl

    @hookimpl
    def register_losses(register):
        pass
"""
SHADOW = """
    from ganzoo import hookimpl

    @hookimpl
    def register_losses(register):
        register("hinge", "ganzoo.plugins.bce:BCE", "A loss that takes the built-in's name.")
"""
SLOW = """
    import time

    from ganzoo import hookimpl

    time.sleep(0.3)  # what importing torch at the top of an entry-point module costs, and more

    @hookimpl
    def register_losses(register):
        register("slow-loss", "ganzoo.plugins.bce:BCE")
"""


def status_of(dist: str) -> PluginStatus:
    return next(p for p in get_manager(reload=True).plugins if p.info.dist == dist)


def test_hooks_without_hookimpl_are_named_not_silently_ignored(
    make_dist: Callable[..., None], site: Path
) -> None:
    make_dist(site, "zz-unmarked", "zz_unmarked", UNMARKED)
    p = status_of("zz-unmarked")
    assert p.status == "ok" and not p.provides
    assert p.unmarked == ("register_generators", "register_loss")
    (warning,) = get_manager().warnings(p)
    assert (
        "registers nothing: register_generators(), register_loss() are not marked with @ganzoo.hookimpl"
        in (warning)
    )
    make_dist(site, "zz-nothing", "zz_nothing", NOTHING)
    (warning,) = get_manager().warnings(status_of("zz-nothing"))
    assert warning.startswith("registers nothing: it has no @ganzoo.hookimpl function named register_")


def test_a_name_that_shadows_a_builtin_is_flagged_with_how_to_keep_the_builtin(
    make_dist: Callable[..., None], site: Path
) -> None:
    make_dist(site, "zz-shadow", "zz_shadow", SHADOW)
    m = get_manager(reload=True)
    p = next(p for p in m.plugins if p.info.dist == "zz-shadow")
    ((kind, name, others),) = m.shadows(p.info)
    assert (kind, name, [o.dist for o in others]) == ("loss", "hinge", ["ganzoo"])
    (warning,) = m.warnings(p)
    assert "shadows the loss 'hinge' of ganzoo " in warning and "(built-in)" in warning
    assert "'ganzoo:hinge'" in warning and "-p no:zz-shadow" in warning
    assert m.registry.get("loss", "ganzoo:hinge").plugin.builtin  # the built-in stays reachable
    with pytest.raises(AmbiguousComponentError, match=r"'ganzoo:hinge' \(the built-in\)"):
        m.registry.get("loss", "hinge")


def test_a_slow_entry_point_module_is_timed_and_flagged(make_dist: Callable[..., None], site: Path) -> None:
    make_dist(site, "zz-slow", "zz_slow", SLOW)
    make_dist(site, "zz-good", "zz_good", GOOD)
    slow, good = status_of("zz-slow"), status_of("zz-good")
    assert slow.import_seconds is not None and slow.import_seconds >= 0.3 and slow.slow
    assert good.import_seconds is not None and good.import_seconds < SLOW_IMPORT_S and not good.slow
    (warning,) = get_manager().warnings(slow)
    assert "slow: its entry-point module zz_slow took 0.3" in warning
    assert "keep the entry-point module light" in warning
    assert get_manager().warnings(good) == []
