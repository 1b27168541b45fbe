"""Strategies, damage and checks the fuzz tests share (imported as ``fuzzkit``; see conftest.py).

The contract every check enforces (docs/errors.md): a bad input ends in one sentence on stderr
(``error: ...``) and exit status 2 (usage) or 1 (runtime), never a traceback, and no file is left
half-written or changed by a command that fails.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from ganzoo.errors import GanzooError

FIXTURE = Path(__file__).parents[1] / "fixtures" / "mnist"


def fuzz_settings(examples: int) -> settings:
    """Bounded and repeatable: the same examples on every CI run, no database written into the tree."""
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


# -- values ------------------------------------------------------------------------------------

#: Whole numbers that are small, or far too big to allocate (torch refuses those at once): never
#: the middle range (thousands to 2^31) where a size would really be allocated on a shared machine.
INTS = st.one_of(
    st.integers(-3, 300),
    st.sampled_from(
        [
            -(2**64),
            -(2**63),
            -(2**31),
            2**31 - 1,
            2**31,
            2**32 - 1,
            2**32,
            2**53 + 1,
            2**63 - 1,
            2**63,
            2**64,
            10**12,
            10**30,
            10**400,
        ]
    ),
)
FLOATS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 0.5, 1.0, 1.5, -1.0, 1e-300, 5e-324, 1e308, math.inf, -math.inf, math.nan]),
)
WORDS = st.sampled_from(
    [
        *("", " ", "cpu", "cuda", "cuda:0", "cuda:99", "mps", "auto", "tpu", "true", "none", "null", "NaN"),
        *("adam", "sgd", "fp16", "bf16", "fp8", "color", "color,cutout", "color,,x", "stop", "skip"),
        *("normal", "uniform01", "joint", "split", "sequential", "channels_last", "progress", "\x00", "é"),
    ]
)
TEXT = st.one_of(WORDS, st.text(max_size=12))
SCALARS = st.one_of(st.none(), st.booleans(), INTS, FLOATS, TEXT)
#: Python values of every JSON/TOML shape: what a settings file, a config.json or the API may hold.
VALUES = st.one_of(
    SCALARS,
    st.lists(SCALARS, max_size=3),
    st.dictionaries(st.text(max_size=4), SCALARS, max_size=2),
)

#: TOML and JSON fragments and odd literals as ``--set`` and option text.
FRAGMENTS = st.sampled_from(
    [
        *("true", "false", "True", "[]", "{}", "[1, 2]", "[0.5, 0.999]", "[0.5]", "[2, 0.5]", "{a = 1}"),
        *('{"a": 1}', "1979-05-27", "07:32:00", "1979-05-27T07:32:00Z", "0x7fffffff", "0o17", "0b101"),
        *("1_000", "+inf", "-inf", "inf", "nan", "-nan", "NaN", "Infinity", "1e309", "-1e309", "-0", "0.0"),
        *(
            "'single'",
            '"double"',
            '"""x"""',
            "[1, 'a']",
            "[[1]]",
            "null",
            "None",
            "=",
            "a=b",
            "1,2",
            "[",
            '"',
        ),
        *("18446744073709551616", "4294967296", "4294967295", "9223372036854775808", "1" + "0" * 400),
    ]
)
SET_TEXT = st.one_of(
    INTS.map(str),
    FLOATS.map(repr),
    FRAGMENTS,
    TEXT,
    st.lists(st.one_of(INTS, FLOATS, st.booleans()), max_size=3).map(json.dumps),
    st.dictionaries(st.text(max_size=3), INTS, max_size=2).map(json.dumps),
)

#: Setting names whose whole-number values size a tensor or a network layer.
SIZES = {"hidden", "latent_dim", "samples", "eval_n", "batch_size"}


def risky(key: str, value: Any, training: bool = False) -> bool:
    """Whether ``key=value`` would really allocate gigabytes, start hundreds of threads, or (when
    ``training``) train for long, instead of being refused or run at once. Examples skip those:
    they test the machine, not the input's handling."""
    short = key.rpartition(".")[2].strip().replace("-", "_")
    if not isinstance(value, int) or isinstance(value, bool):
        return training and short == "compile" and value is True
    if short in SIZES and 4096 <= value < 2**31:
        return True
    if short == "threads" and 3 <= value < 2**31:
        return True
    return training and short in ("d_steps", "iterations", "eval_every", "epochs") and value > 3


# -- damage ------------------------------------------------------------------------------------


@st.composite
def damaged(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` damaged one way: cut short, bits flipped, bytes that are not UTF-8, emptied, junk
    appended or overwritten. The result always differs from ``data``."""
    how = draw(st.sampled_from(["truncate", "flip", "undecodable", "empty", "append", "overwrite"]))
    if how == "truncate" and len(data) > 0:
        out = data[: draw(st.integers(0, len(data) - 1))]
    elif how == "flip" and len(data) > 0:
        buf = bytearray(data)
        for _ in range(draw(st.integers(1, 3))):
            i = draw(st.integers(0, len(buf) - 1))
            buf[i] ^= 1 << draw(st.integers(0, 7))
        out = bytes(buf)
    elif how == "undecodable" and len(data) > 0:
        i = draw(st.integers(0, len(data)))
        out = (
            data[:i] + draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\x80\x80", b"\xfe\xff\x00"])) + data[i:]
        )
    elif how == "append":
        out = data + draw(st.binary(min_size=1, max_size=64))
    elif how == "overwrite" and len(data) > 0:
        i = draw(st.integers(0, len(data) - 1))
        junk = draw(st.binary(min_size=1, max_size=16))
        out = data[:i] + junk + data[i + len(junk) :]
    else:
        out = b""
    if out == data:
        out = data[:-1]
    return out


def paths_in(doc: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path (keys and indices) to a value inside a JSON document, the root included."""
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += paths_in(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += paths_in(v, (*prefix, i))
    return out


@st.composite
def json_damaged(draw: st.DrawFn, doc: Any) -> Any:
    """A copy of a JSON document with one value replaced by another of any type, or deleted."""
    doc = json.loads(json.dumps(doc))
    path = draw(st.sampled_from(paths_in(doc)))
    replacement = draw(VALUES)
    if not path:
        return replacement
    parent = doc
    for part in path[:-1]:
        parent = parent[part]
    if draw(st.booleans()) and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = replacement
    return doc


def json_text(doc: Any) -> bytes:
    """JSON as Python writes it, NaN and Infinity included (as a damaged file may hold them)."""
    return json.dumps(doc, indent=2).encode("utf-8")


# -- running and checking ----------------------------------------------------------------------


def invoke(argv: list[str]) -> Result:
    """``ganzoo ARGV`` in this process; an exception the CLI let through is raised again, with its
    own traceback, so that hypothesis reports (and tells apart) each one."""
    from ganzoo.cli import cli

    result = CliRunner().invoke(cli, [str(a) for a in argv])
    if result.exc_info is not None and not isinstance(result.exc_info[1], SystemExit):
        _, exc, tb = result.exc_info
        raise exc.with_traceback(tb)
    return result


def check_result(result: Result, codes: tuple[int, ...] = (0, 1, 2)) -> None:
    """Exit status 0, 1 or 2 (or those given); no traceback; a failure says one sentence."""
    shown = f"exit {result.exit_code}\nstdout: {result.stdout[-2000:]}\nstderr: {result.stderr[-2000:]}"
    assert result.exit_code in codes, shown
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout, shown
    if result.exit_code == 0:
        return
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    usage = [ln for ln in result.stderr.splitlines() if ln.startswith("Error:")]  # click's own
    if usage and result.exit_code == 2 and not errors:
        assert len(usage) == 1, shown
        return
    assert len(errors) == 1, shown
    assert errors[0][len("error:") :].strip(), shown


def outcome(call: Callable[[], Any]) -> BaseException | None:
    """Run ``call``: None when it succeeds, the error when ganzoo refused in one sentence (or the
    OS did: the CLI words an OSError as one line too); anything else propagates and fails the test."""
    try:
        call()
    except GanzooError as exc:
        message = str(exc)
        assert message.strip() and "\n" not in message, f"not one sentence: {message!r}"
        return exc
    except OSError as exc:
        return exc
    return None


def scratch(root: Path) -> Path:
    """A fresh folder for one example (tmp_path is shared by all the examples of a test)."""
    return Path(tempfile.mkdtemp(dir=root))


def copy_run(run: Path, root: Path) -> Path:
    dst = scratch(root) / "run"
    shutil.copytree(run, dst, symlinks=True)
    return dst


def files(root: Path) -> dict[str, tuple[str, int]]:
    """Every file below ``root``: its sha256 and mtime, by path relative to ``root``."""
    out = {}
    for p in sorted(Path(root).rglob("*")):
        if p.is_file():
            out[p.relative_to(root).as_posix()] = (
                hashlib.sha256(p.read_bytes()).hexdigest(),
                p.stat().st_mtime_ns,
            )
    return out


def tree(*roots: Path) -> set[Path]:
    return {p for root in roots if root.exists() for p in root.rglob("*")}


def cache_dir() -> Path:
    return Path(os.environ["GANZOO_CACHE"])


def lookup() -> Callable[[str, str], Any]:
    from ganzoo import build
    from ganzoo.manager import get_manager

    return partial(build.lookup, get_manager())


def fresh_settings_file() -> None:
    """Forget the parsed settings file: it is cached by mtime and size, and two examples may write
    files of the same size within one tick of the file system's clock."""
    from ganzoo import user_settings

    user_settings._parse.cache_clear()


def reset_threads() -> None:
    import torch

    torch.set_num_threads(1)
