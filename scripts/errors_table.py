"""Rewrites the table of docs/errors.md from the bad-input cases of tests/e2e/test_bad_input.py.

python scripts/errors_table.py      # from the repository root; the test checks they agree
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
from test_bad_input import CASES  # noqa: E402

HEADER = "| command | exit | the message contains |\n|---|---|---|\n"


def main() -> None:
    path = ROOT / "docs" / "errors.md"
    head, rest = path.read_text().split(HEADER)
    tail = rest[rest.index("\n\n") :]
    rows = []
    for argv, code, fragment, *env in CASES:
        cmd = "ganzoo " + " ".join(argv)
        if env:
            cmd = " ".join(f"{k}={v}" for k, v in env[0].items()) + " " + cmd
        rows.append(f"| `{cmd}` | {code} | {fragment.replace('|', chr(92) + '|')} |")
    path.write_text(head + HEADER + "\n".join(rows) + tail)


if __name__ == "__main__":
    main()
