from __future__ import annotations

import pytest

from ganzoo.errors import AmbiguousComponentError, UnknownComponentError
from ganzoo.registry import Entry, PluginInfo, Registry

A = PluginInfo("a", "dist-a", "1.0", "mod_a")
B = PluginInfo("b", "dist-b", "2.0", "mod_b")


def entry(name: str, plugin: PluginInfo, kind: str = "generator") -> Entry:
    return Entry(kind, name, f"{name} from {plugin.dist}", "json:dumps", plugin)


def test_get_returns_the_registered_entry_and_loads_lazily() -> None:
    reg = Registry()
    reg.add(entry("vanilla-mlp", A))
    found = reg.get("generator", "vanilla-mlp")
    assert found.plugin == A
    import json

    assert found.load() is json.dumps


def test_unknown_name_suggests_the_closest() -> None:
    reg = Registry()
    reg.add(entry("vanilla-mlp", A))
    reg.add(entry("dcgan", A))
    with pytest.raises(
        UnknownComponentError, match=r"Unknown generator 'vanila-mlp'\. Did you mean 'vanilla-mlp'\?"
    ):
        reg.get("generator", "vanila-mlp")


def test_duplicate_names_are_kept_and_ambiguous_use_names_both() -> None:
    reg = Registry()
    reg.add(entry("dcgan", A))
    reg.add(entry("dcgan", B))
    assert [e.plugin.dist for e in reg.entries("generator")] == ["dist-a", "dist-b"]
    with pytest.raises(AmbiguousComponentError) as err:
        reg.get("generator", "dcgan")
    assert "'dist-a:dcgan'" in str(err.value) and "'dist-b:dcgan'" in str(err.value)
    assert reg.get("generator", "dist-b:dcgan").plugin == B
    assert reg.get("generator", "DIST_A:dcgan").plugin == A  # distribution names are normalised


def test_names_must_be_kebab_case() -> None:
    with pytest.raises(ValueError, match="kebab-case"):
        Registry().add(entry("Vanilla_MLP", A))


def test_remove_forgets_a_plugins_entries() -> None:
    reg = Registry()
    reg.add(entry("x", A))
    reg.add(entry("y", B))
    reg.remove(A)
    assert reg.names("generator") == ["y"]


def test_failed_import_names_the_distribution() -> None:
    bad = Entry("loss", "broken", "", "no_such_module_xyz:Loss", B)
    with pytest.raises(Exception, match=r"dist-b 2\.0 could not be imported"):
        bad.load()


def test_one_distribution_registering_a_name_twice_is_one_component() -> None:
    from ganzoo.registry import Entry, PluginInfo, Registry

    registry = Registry()
    installed = PluginInfo("wide", "ganzoo-wide", "0.1.0", "ganzoo_wide")
    again = PluginInfo("wide-under-test", "ganzoo-wide", "0.1.0", "ganzoo_wide")
    registry.add(Entry("generator", "wide", "", "ganzoo_wide.networks:Generator", installed))
    registry.add(Entry("generator", "wide", "", "ganzoo_wide.networks:Generator", again))
    assert registry.get("generator", "wide").plugin == installed  # not ambiguous
    registry.remove(again)
    assert registry.get("generator", "wide").plugin == installed  # and still there afterwards


def test_an_ambiguous_name_says_how_to_pick_the_builtin_or_disable_the_plugin() -> None:
    builtin = PluginInfo("losses", "ganzoo", "0.2.0", "ganzoo.plugins.losses", builtin=True)
    reg = Registry()
    reg.add(entry("hinge", A, kind="loss"))  # added first, named second: the built-in leads
    reg.add(entry("hinge", builtin, kind="loss"))
    with pytest.raises(AmbiguousComponentError) as err:
        reg.get("loss", "hinge")
    assert str(err.value) == (
        "The loss name 'hinge' is registered by both ganzoo 0.2.0 and dist-a 1.0; choose one with "
        "'ganzoo:hinge' (the built-in) or 'dist-a:hinge'; or disable dist-a with `ganzoo -p no:dist-a ...` "
        "or GANZOO_DISABLE_PLUGINS=dist-a."
    )
    assert reg.get("loss", "ganzoo:hinge").plugin == builtin
    reg.add(entry("hinge", B, kind="loss"))
    with pytest.raises(AmbiguousComponentError) as err:
        reg.get("loss", "hinge")
    assert "registered by ganzoo 0.2.0, dist-a 1.0 and dist-b 2.0;" in str(err.value)
    assert "disable one plugin with `ganzoo -p no:DIST ...`" in str(err.value)
