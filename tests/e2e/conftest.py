"""What the bad-input tables share: run a command, check it is one clear sentence and wrote nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from ganzoo.cli import cli

ERRORS_MD = Path(__file__).parents[2] / "docs" / "errors.md"


def snapshot(*roots: Path) -> set[Path]:
    """Every file and folder under ``roots`` (bytecode caches aside)."""
    return {p for root in roots for p in root.rglob("*") if "__pycache__" not in p.parts}


@pytest.fixture
def one_sentence() -> Callable[..., str]:
    """``one_sentence(argv, code, fragment, *watched)``: run ``ganzoo ARGV`` in this process and
    check its exit status, that ``fragment`` is on stderr, that no traceback is, and that nothing
    under ``watched`` appeared or went; returns stderr with its whitespace folded."""

    def run(argv: list[str], code: int, fragment: str, *watched: Path) -> str:
        before = snapshot(*watched)
        result = CliRunner().invoke(cli, argv)
        assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
        assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)
        stderr = " ".join(result.stderr.split())
        assert fragment in stderr, stderr
        assert "Traceback" not in result.stderr
        assert snapshot(*watched) == before, "the command left files behind"
        return stderr

    return run


@pytest.fixture
def undocumented() -> Callable[[list[tuple]], list[str]]:
    """``undocumented(cases)``: the cases whose row (exit status, message) docs/errors.md lacks."""

    def lacks(cases: list[tuple]) -> list[str]:
        doc = ERRORS_MD.read_text()
        return [c[2] for c in cases if f"| {c[1]} | {c[2].replace('|', chr(92) + '|')} |" not in doc]

    return lacks
