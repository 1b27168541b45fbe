"""Every GANZOO_* variable is declared once, in ganzoo/env.py, documented, and read through it."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from ganzoo import env

ROOT = Path(__file__).parents[1]
SOURCES = [*sorted((ROOT / "ganzoo").rglob("*.py")), *sorted((ROOT / "plugins").rglob("*.py"))]


def test_no_module_but_env_spells_out_a_ganzoo_variable_to_read_it() -> None:
    reads = re.compile(r"os\.environ(?:\.get)?\(?\[?\s*[\"']GANZOO_|getenv\(\s*[\"']GANZOO_")
    offenders = [
        f"{p.relative_to(ROOT)}:{i}"
        for p in SOURCES
        if p.name != "env.py"
        for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if reads.search(line)
    ]
    assert not offenders, f"read GANZOO_* through ganzoo.env: {offenders}"


def test_every_variable_the_code_names_is_declared() -> None:
    named = set()
    for p in SOURCES:
        named |= set(re.findall(r"\bGANZOO_[A-Z_]+\b", p.read_text(encoding="utf-8")))
    declared = {v.name for v in env.ALL}
    assert named - declared == set()


def test_every_variable_is_documented_in_the_guide() -> None:
    guide = (ROOT / "docs" / "guide.md").read_text(encoding="utf-8")
    missing = [v.name for v in env.ALL if f"`{v.name}`" not in guide]
    assert not missing, f"docs/guide.md does not describe {missing}"


def test_the_test_suite_starts_with_every_variable_cleared_but_its_own() -> None:
    own = {env.OFFLINE.name, env.CACHE.name}  # conftest.py sets these two for every test
    assert [v.name for v in env.ALL if v.name in os.environ and v.name not in own] == []


@pytest.mark.parametrize(
    ("value", "flag", "names"),
    [("", False, set()), ("0", False, {"0"}), ("1", True, {"1"}), (" a, B ,", True, {"a", "b"})],
)
def test_a_variable_reads_as_a_flag_and_as_a_list_of_names(
    monkeypatch: pytest.MonkeyPatch, value: str, flag: bool, names: set[str]
) -> None:
    monkeypatch.setenv(env.PLUGINS.name, value)
    assert env.PLUGINS.flag() is flag and env.PLUGINS.names() == names
    monkeypatch.delenv(env.PLUGINS.name)
    assert env.PLUGINS.names() is None and env.PLUGINS.get() is None
