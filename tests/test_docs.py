"""The docs do not rot: docs/api.md's code runs, and every `ganzoo` command shown in README.md
and docs/*.md parses against the real command line (the quick ones also run)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from ganzoo.cli import cli

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = Path(__file__).parent / "fixtures" / "mnist"
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"```(\w*)\n(.*?)```", re.S)
# Commands cheap enough to run for real, not only to parse.
QUICK = {("list",), ("plugins",), ("data", "list"), ("completion",)}


def blocks(path: Path, languages: tuple[str, ...]) -> list[str]:
    return [body for lang, body in BLOCK.findall(path.read_text(encoding="utf-8")) if lang in languages]


def ganzoo_commands(text: str) -> list[list[str]]:
    """The argument lists of every ganzoo invocation in a shell block: after `ganzoo`, `-m ganzoo`."""
    text = text.replace("\\\n", " ")
    found = []
    for line in text.splitlines():
        for part in re.split(r"&&|\|\||;|\|", line.split(" #")[0].split("\t#")[0]):
            try:
                words = shlex.split(part.split(" > ")[0].split(" >> ")[0], comments=True)
            except ValueError:  # not shell (a file tree, prose) or a quote split above: no command
                continue
            for i, word in enumerate(words):
                if word == "ganzoo" and (
                    i == 0 or "=" in words[i - 1] or words[i - 1] in ("-m", "-v", "time")
                ):
                    found.append(words[i + 1 :])
                    break
    return found


ALL = [
    (path.relative_to(ROOT).as_posix(), args)
    for path in DOCS
    for block in blocks(path, ("bash", "sh", "console", ""))
    for args in ganzoo_commands(block)
]


def test_the_docs_show_ganzoo_commands() -> None:
    assert len(ALL) > 50  # the extraction finds them (README, guide, recipes, scaling, ...)


@pytest.mark.parametrize(("doc", "args"), ALL, ids=[f"{d}: ganzoo {' '.join(a)}"[:90] for d, a in ALL])
def test_every_documented_command_parses(doc: str, args: list[str]) -> None:
    """Every option and argument of the command exists and takes the value shown."""
    command: click.Command = cli
    path: list[str] = []
    try:
        ctx = cli.make_context("ganzoo", list(args))
        rest = _remaining(ctx)
        while isinstance(command, click.Group) and rest:
            name, sub, rest = command.resolve_command(ctx, rest)
            assert sub is not None and name is not None, f"{doc}: no command {rest[0]!r}"
            path.append(name)
            ctx = sub.make_context(name, list(rest), parent=ctx)
            command, rest = sub, _remaining(ctx) if isinstance(sub, click.Group) else []
    except click.exceptions.Exit:  # --help, --version: parsed fine
        return
    except click.UsageError as exc:
        pytest.fail(f"{doc}: `ganzoo {' '.join(args)}` does not parse: {exc.format_message()}")
    if tuple(path[:2]) in QUICK or tuple(path[:1]) in QUICK:
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, f"{doc}: `ganzoo {' '.join(args)}` failed: {result.output}"


def _remaining(ctx: click.Context) -> list[str]:
    """The words a group left for its subcommand (click 8 keeps the first apart)."""
    return [*getattr(ctx, "_protected_args", []), *ctx.args]


def test_api_md_runs_as_written(tmp_path: Path) -> None:
    code = "\n".join(blocks(ROOT / "docs" / "api.md", ("python",)))
    assert "ganzoo.train(" in code and "load_generator" in code
    env = {**os.environ, "GANZOO_DATA": str(FIXTURE), "GANZOO_OFFLINE": "1", "XDG_CONFIG_HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "walk.png").is_file() and (
        tmp_path / "runs" / "api-demo" / "generator.safetensors"
    ).is_file()


def test_every_public_name_of_the_plugin_bases_is_in_the_plugin_guide() -> None:
    """As datasette keeps its plugin hooks documented: each public attribute and method of the
    component bases, the Reporter and what a reporter reads of the trainer appears in
    docs/plugins.md, so a plugin author finds everything the contract offers."""
    import re

    from torch import nn

    from ganzoo import components
    from ganzoo.training import reporters

    text = (Path(__file__).parents[1] / "docs" / "plugins.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`([\w.]+)", text))
    missing = {}
    bases = (components.Generator, components.Discriminator, components.Dataset, components.Loss)
    for cls in (*bases, reporters.Reporter, reporters.Trainer):
        names: set[str] = set()
        for klass in cls.__mro__:
            if klass in (object, nn.Module) or klass.__module__.startswith(("torch", "abc", "typing")):
                continue
            names |= {
                n for n in (*vars(klass), *getattr(klass, "__annotations__", {})) if not n.startswith("_")
            }
        if names - documented:
            missing[cls.__name__] = sorted(names - documented)
    assert not missing, f"not in docs/plugins.md: {missing}"
