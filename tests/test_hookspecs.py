"""Meta-tests (datasette's habit): every hook is tested and documented; built-ins use the entry points."""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

from ganzoo import hookspecs
from ganzoo.manager import get_manager

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).parents[1]


def hooks() -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(fn)
        for name, fn in vars(hookspecs).items()
        if callable(fn) and getattr(fn, "ganzoo_spec", None) is not None
    }


def test_the_hook_specs_are_found() -> None:
    assert set(hooks()) == {
        "register_generators",
        "register_discriminators",
        "register_datasets",
        "register_losses",
        "register_reporters",
        "register_pretrained",
    }


def test_every_hook_has_a_test_that_implements_it() -> None:
    sources = {p: p.read_text() for p in (ROOT / "tests").rglob("test_*.py") if p.name != "test_meta.py"}
    for name in hooks():
        using = [p.name for p, text in sources.items() if f"def {name}(" in text]
        assert using, f"no test implements the hook {name}"


def test_every_hook_signature_is_in_the_plugin_guide() -> None:
    guide = (ROOT / "docs" / "plugins.md").read_text()
    for name, sig in hooks().items():
        params = ", ".join(sig.parameters)
        assert f"def {name}({params})" in guide, f"docs/plugins.md does not show {name}({params})"


def test_every_builtin_component_comes_through_the_entry_point_group() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    declared = pyproject["project"]["entry-points"]["ganzoo"]
    manager = get_manager()
    builtin = [p for p in manager.plugins if p.info.builtin]
    assert {p.info.name for p in builtin} == set(declared)
    assert all(p.status == "ok" and p.info.module == declared[p.info.name] for p in builtin)
    for kind in ("generator", "discriminator", "dataset", "loss"):
        for entry in manager.registry.entries(kind):
            assert entry.plugin.name in declared, (
                f"{kind} {entry.name} was registered around the entry points"
            )


def test_the_wheel_lists_every_package_folder() -> None:
    """A folder with an __init__.py that pyproject.toml does not list is left out of the wheel: the
    installed ganzoo then fails on its first import of it (ganzoo.commands once did, in CI's dry GPU
    check, while every test of the editable install passed)."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    listed = set(pyproject["tool"]["setuptools"]["packages"])
    where = pyproject["tool"]["setuptools"]["package-dir"]
    found = set()
    for package, folder in where.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            parts = init.parent.relative_to(ROOT / folder).parts
            found.add(".".join((package, *parts)))
    assert found == listed
