"""The shape of the package: no import cycle anywhere in ganzoo/ and plugins/, and the modules that
the light commands (``--help``, ``list``, ``show``) and ``import ganzoo`` load never import torch."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]

#: Modules that must load without torch (docs/architecture.md, "Invariants").
LIGHT = [
    "ganzoo",
    "ganzoo.api",
    "ganzoo.commands.catalogue",
    "ganzoo.commands.data",
    "ganzoo.commands.evaluation",
    "ganzoo.commands.generate",
    "ganzoo.commands.show",
    "ganzoo.commands.train",
    "ganzoo.cli",
    "ganzoo.compare",
    "ganzoo.export",
    "ganzoo.report",
    "ganzoo.dataspec",
    "ganzoo.env",
    "ganzoo.figures",
    "ganzoo.files",
    "ganzoo.manager",
    "ganzoo.memory",
    "ganzoo.planning",
    "ganzoo.present",
    "ganzoo.recipes",
    "ganzoo.record",
    "ganzoo.registry",
    "ganzoo.resolve",
    "ganzoo.rundir",
    "ganzoo.sweep",
    "ganzoo.runlock",
    "ganzoo.settings",
    "ganzoo.threads",
    "ganzoo.training",
    "ganzoo.training.reporters",
    "ganzoo.user_settings",
    "ganzoo.data",
    "ganzoo.data.locate",
    "ganzoo.data.paths",
    "ganzoo.plugins.architectures",
    "ganzoo.plugins.datasets",
    "ganzoo.plugins.losses",
]


def modules() -> dict[str, Path]:
    """Every module of the package by its import name (plugins/ is ganzoo.plugins)."""
    found = {}
    for top, prefix in ((ROOT / "ganzoo", "ganzoo"), (ROOT / "plugins", "ganzoo.plugins")):
        for path in top.rglob("*.py"):
            parts = list(path.relative_to(top).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join([prefix, *parts])] = path
    return found


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The package's modules that ``name`` imports anywhere in its file: at the top, inside
    functions and under TYPE_CHECKING alike (a cycle through a late import is still a cycle)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the package, up level - 1 packages
                parts = package.split(".")
                base = ".".join([*parts[: len(parts) - node.level + 1], *([base] if base else [])])
            # `from ganzoo.x import y` imports the module ganzoo.x.y when there is one, else ganzoo.x
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        out.update(t for t in targets if t in known and t != name)
    return out


def cycles(graph: dict[str, set[str]]) -> list[str]:
    """Every cycle a depth-first walk of ``graph`` meets, as "a -> b -> a"."""
    found: list[str] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                found.append(" -> ".join([*path[path.index(nxt) :], nxt]))
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    return found


def test_no_module_imports_one_that_imports_it_back() -> None:
    found = modules()
    graph = {name: imports(name, path, set(found)) for name, path in found.items()}
    assert not cycles(graph), "import cycles:\n" + "\n".join(cycles(graph))


def test_the_cycle_finder_finds_a_cycle_through_a_late_import(tmp_path: Path) -> None:
    """The check above can fail: two modules that import each other, one inside a function."""
    (tmp_path / "a.py").write_text("from ganzoo import b\n")
    (tmp_path / "b.py").write_text("def f():\n    from ganzoo.a import x\n")
    (tmp_path / "c.py").write_text("import ganzoo.a\n")
    known = {"ganzoo.a", "ganzoo.b", "ganzoo.c"}
    graph = {n: imports(n, tmp_path / f"{n[-1]}.py", known) for n in known}
    assert graph == {"ganzoo.a": {"ganzoo.b"}, "ganzoo.b": {"ganzoo.a"}, "ganzoo.c": {"ganzoo.a"}}
    assert cycles(graph) == ["ganzoo.a -> ganzoo.b -> ganzoo.a"]


@pytest.mark.parametrize("module", LIGHT)
def test_light_modules_do_not_import_torch(module: str) -> None:
    code = f"import sys, {module}; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", f"{module} imports torch"


FIXTURE = Path(__file__).parent / "fixtures" / "mnist"


def test_import_ganzoo_stays_light() -> None:
    code = "import sys, ganzoo; ganzoo.list_components(); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_training_with_sample_grids_never_imports_torchvision(tmp_path: Path) -> None:
    """torchvision is 170 MB of memory; a run's grids are tiled and written without it."""
    fixtures = ROOT / "tests" / "fixtures" / "mnist"
    code = (
        "import sys, ganzoo; "
        f"ganzoo.train('vanilla-mlp', 'mnist', out={str(tmp_path / 'run')!r}, data_dir={str(fixtures)!r}, "
        "iterations=4, seed=0, device='cpu', sets=['sample_every=2']); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'torchvision'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
    assert (tmp_path / "run" / "samples" / "step-0000002.png").is_file()


ARCHITECTURE = ROOT / "docs" / "architecture.md"


def layer_table() -> list[list[str]]:
    """docs/architecture.md's layer table: the module names of each layer, the first layer first
    (``x/`` names a package and everything in it; ``ganzoo`` the package's own __init__)."""
    text = ARCHITECTURE.read_text(encoding="utf-8")
    rows = text.split("<!-- layers -->", 1)[1].split("\n\n", 1)[0].splitlines()[2:]
    return [[name.strip("`") for name in row.split("|")[2].replace(",", " ").split() if name.startswith("`")]
            for row in rows]  # fmt: skip


def layer_of(module: str, layers: list[list[str]]) -> int | None:
    """The layer (0 first) of a module of the package, by the table; None when it is not there."""
    short = module.removeprefix("ganzoo.") if module != "ganzoo" else "ganzoo"
    if short.startswith("plugins") or short == "plugins":
        short = "plugins/" + short.removeprefix("plugins")
    for i, names in enumerate(layers):
        for name in names:
            if name.endswith("/") and (short == name[:-1] or short.startswith(name[:-1] + ".") or
                                       short.startswith(name)):  # fmt: skip
                return i
            if short == name:
                return i
    return None


def test_every_module_imports_only_from_its_layer_and_the_ones_before() -> None:
    layers = layer_table()
    assert len(layers) >= 7, layers
    found = modules()
    missing = sorted(m for m in found if layer_of(m, layers) is None)
    assert not missing, f"not in docs/architecture.md's layer table: {missing}"
    upward = []
    for name, path in found.items():
        mine = layer_of(name, layers)
        for target in imports(name, path, set(found)):
            theirs = layer_of(target, layers)
            if theirs is not None and mine is not None and theirs > mine:
                upward.append(f"{name} (layer {mine + 1}) imports {target} (layer {theirs + 1})")
    assert not upward, "imports from a later layer:\n" + "\n".join(sorted(upward))


def test_the_layer_check_sees_an_import_from_a_later_layer() -> None:
    """The check above can fail: a foundation importing a command is named."""
    layers = [["errors"], ["settings"], ["commands/"]]
    assert layer_of("ganzoo.commands.show", layers) == 2 and layer_of("ganzoo.errors", layers) == 0
    assert layer_of("ganzoo.nowhere", layers) is None
