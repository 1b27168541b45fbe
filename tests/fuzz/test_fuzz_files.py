"""Fuzzing the files ganzoo reads, each damaged by hypothesis (issue 16): the IDX files of a data
folder, a run's generator weights, its config.json and metrics.jsonl, and the user's settings file.

Damage: cut short at any offset, bits flipped, bytes that are not UTF-8, junk appended or written
over, emptied; for JSON, one value anywhere replaced by another of any type, or deleted.
Each command must end with exit 0, 1 or 2 (per target below), never a traceback, at most one
``error:`` line; a damage that makes the file unusable must fail; and a command that fails (or only
reads) must leave every file that existed before byte for byte, mtime for mtime, as it was.
"""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import fuzzkit
import pytest
from fuzzkit import FIXTURE, VALUES, damaged, fuzz_settings, json_damaged, json_text
from hypothesis import assume, given
from hypothesis import strategies as st

from ganzoo import resolve
from ganzoo.recipes import load_recipes
from ganzoo.resolve import Request
from ganzoo.settings import TRAIN_KEYS


@pytest.fixture
def recipes_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """zoo.toml parsed once per test, not once per example (it costs a quarter of a second)."""
    recipes = load_recipes()
    monkeypatch.setattr(resolve, "load_recipes", lambda: recipes)


def train_argv(data_dir: Path, out: Path) -> list[object]:
    base = ["train", "vanilla-mlp", "mnist", "--data-dir", data_dir, "--iterations", "2", "--device", "cpu"]
    return [*base, "--out", out]


def unchanged(before: dict[str, tuple[str, int]], root: Path) -> None:
    after = fuzzkit.files(root)
    changed = sorted(k for k in before if after.get(k) != before[k])
    assert not changed, f"the command changed {changed}"


# -- IDX files as --data-dir -----------------------------------------------------------------------

IDX = sorted(p.name for p in FIXTURE.glob("*.gz"))


@fuzz_settings(30)
@given(name=st.sampled_from(IDX), raw=st.booleans(), data=st.data())
def test_damaged_idx_file(
    name: str, raw: bool, data: st.DataObject, tmp_path: Path, recipes_once: None
) -> None:
    """One of the four MNIST files damaged, gzip'd or raw: a training file that is cut short cannot
    train (exit 1); other damage may leave it usable (exit 0); a bad data file is never exit 2."""
    root = fuzzkit.scratch(tmp_path)
    folder = root / "mnist"
    shutil.copytree(FIXTURE, folder)
    path = folder / name
    content = path.read_bytes()
    if raw:  # the uncompressed file, damaged, in place of the .gz
        content = gzip.decompress(content)
        path.unlink()
        path = path.with_suffix("")
    bad = data.draw(damaged(content), label="damaged")
    path.write_bytes(bad)
    before, tree = fuzzkit.files(folder), fuzzkit.tree(root, fuzzkit.cache_dir())
    out = root / "run"
    try:
        result = fuzzkit.invoke(train_argv(folder, out))
    finally:
        fuzzkit.reset_threads()
    fuzzkit.check_result(result, (0, 1))
    unchanged(before, folder)
    created = fuzzkit.tree(root, fuzzkit.cache_dir()) - tree
    assert all(p == out or out in p.parents for p in created), f"wrote outside --out: {sorted(created)}"
    cut_short = content.startswith(bad) and name.startswith("train")  # gzip'd too: no end marker
    if cut_short:
        assert result.exit_code == 1, "a truncated training file was used"
    if result.exit_code != 0:
        assert not out.exists(), "a refused run left its folder behind"


# -- the generator's weights -----------------------------------------------------------------------


def loads(path: Path) -> bool:
    """Whether safetensors itself reads the file (an independent opinion on the damage)."""
    from safetensors.torch import load_file

    try:
        load_file(str(path))
    except Exception:
        return False
    return True


@fuzz_settings(70)
@given(ema=st.booleans(), command=st.sampled_from(["generate", "eval"]), data=st.data())
def test_damaged_generator_weights(
    ema: bool, command: str, data: st.DataObject, base_run: Path, tmp_path: Path
) -> None:
    """generate (and eval) reads generator-ema.safetensors when the run kept an EMA, else
    generator.safetensors (the EMA file is removed for those examples): the one it reads is damaged.
    Exit 0 only when safetensors still reads the damaged file; never exit 2 (the command line is fine)."""
    run = fuzzkit.copy_run(base_run, tmp_path)
    if not ema:
        (run / "generator-ema.safetensors").unlink()
    path = run / ("generator-ema.safetensors" if ema else "generator.safetensors")
    path.write_bytes(data.draw(damaged(path.read_bytes()), label="damaged"))
    before, tree = fuzzkit.files(run), fuzzkit.tree(run.parent)
    out = run.parent / "grid.png"
    if command == "generate":
        result = fuzzkit.invoke(["generate", run, "-n", "2", "--seed", "0", "-o", out])
    else:
        result = fuzzkit.invoke(["eval", run, "-n", "4", "--json"])
    fuzzkit.check_result(result, (0, 1))
    unchanged(before, run)
    if result.exit_code == 0:
        assert loads(path), "generate used weights safetensors cannot read"
    else:
        assert fuzzkit.tree(run.parent) == tree, "a failed generate left files behind"


# -- config.json ------------------------------------------------------------------------------------


@st.composite
def damaged_config(draw: st.DrawFn, text: bytes) -> bytes:
    if draw(st.booleans()):
        return json_text(draw(json_damaged(json.loads(text))))
    return draw(damaged(text))


@fuzz_settings(120)
@given(command=st.sampled_from(["show", "show --json", "generate", "generate --nice"]), data=st.data())
def test_damaged_config_json(command: str, data: st.DataObject, base_run: Path, tmp_path: Path) -> None:
    """show and generate on a run whose config.json is damaged: exit 0 or 1, nothing changed."""
    run = fuzzkit.copy_run(base_run, tmp_path)
    config = run / "config.json"
    config.write_bytes(data.draw(damaged_config(config.read_bytes()), label="config.json"))
    before, tree = fuzzkit.files(run), fuzzkit.tree(run.parent)
    name, *flags = command.split()
    extra = ["-n", "2", "--nice-factor", "2", "-o", run.parent / "grid.png"] if name == "generate" else []
    result = fuzzkit.invoke([name, run, *flags, *extra])
    fuzzkit.check_result(result, (0, 1))
    unchanged(before, run)
    if result.exit_code != 0:
        assert fuzzkit.tree(run.parent) == tree, "a failed command left files behind"


@fuzz_settings(60)
@given(data=st.data())
def test_damaged_config_json_resume_plan(data: st.DataObject, base_run: Path, tmp_path: Path) -> None:
    """``train --resume`` up to the point where it would train (planning.resume, launch.build): a
    damaged record is refused in one sentence or resumes; nothing is written."""
    from ganzoo import planning
    from ganzoo.manager import get_manager
    from ganzoo.training import launch

    run = fuzzkit.copy_run(base_run, tmp_path)
    config = run / "config.json"
    config.write_bytes(data.draw(damaged_config(config.read_bytes()), label="config.json"))
    before = fuzzkit.files(run)

    def go() -> None:
        plan = planning.resume(run, {}, {"iterations": 3}, (), None, FIXTURE)
        launch.build(plan, get_manager())

    try:
        fuzzkit.outcome(go)
    finally:
        fuzzkit.reset_threads()
    unchanged(before, run)


@fuzz_settings(12)
@given(data=st.data())
def test_damaged_config_json_resume(data: st.DataObject, base_run: Path, tmp_path: Path) -> None:
    """``ganzoo train --resume RUN --iterations 3`` on a config.json damaged byte by byte (so no
    setting can become huge): a resume that fails changes nothing; one that succeeds may write."""
    run = fuzzkit.copy_run(base_run, tmp_path)
    config = run / "config.json"
    config.write_bytes(data.draw(damaged(config.read_bytes()), label="config.json"))
    before = fuzzkit.files(run)
    try:
        result = fuzzkit.invoke(["train", "--resume", run, "--iterations", "3", "--data-dir", FIXTURE])
    finally:
        fuzzkit.reset_threads()
    fuzzkit.check_result(result, (0, 1, 2))
    if result.exit_code != 0:
        unchanged(before, run)


# -- metrics.jsonl ----------------------------------------------------------------------------------

LOG_ROWS = st.one_of(
    VALUES,
    st.fixed_dictionaries({"step": VALUES}, optional={"g_loss": VALUES, "d_loss": VALUES, "time": VALUES}),
    st.fixed_dictionaries({"step": VALUES, "eval": VALUES}),
)


@st.composite
def damaged_log(draw: st.DrawFn, text: bytes) -> bytes:
    """The log damaged as bytes, or with lines of JSON of the wrong shape put in anywhere."""
    if draw(st.booleans()):
        return draw(damaged(text))
    lines = text.splitlines()
    for row in draw(st.lists(LOG_ROWS, min_size=1, max_size=3)):
        lines.insert(draw(st.integers(0, len(lines))), json.dumps(row).encode())
    return b"\n".join(lines) + b"\n"


def unfinished(run: Path) -> None:
    """The run as a kill leaves it: config.json without a result, so show reads the log."""
    record = json.loads((run / "config.json").read_text())
    del record["result"]
    (run / "config.json").write_text(json.dumps(record))


@fuzz_settings(120)
@given(command=st.sampled_from(["show", "show --json"]), finished=st.booleans(), data=st.data())
def test_damaged_log_show(
    command: str, finished: bool, data: st.DataObject, base_run: Path, tmp_path: Path
) -> None:
    """``ganzoo show`` skips what it cannot read in the log: exit 0 or 1, nothing changed."""
    run = fuzzkit.copy_run(base_run, tmp_path)
    if not finished:
        unfinished(run)
    log = run / "metrics.jsonl"
    log.write_bytes(data.draw(damaged_log(log.read_bytes()), label="metrics.jsonl"))
    before = fuzzkit.files(run)
    result = fuzzkit.invoke(["show", run, *command.split()[1:]])
    fuzzkit.check_result(result, (0, 1))
    unchanged(before, run)


@fuzz_settings(10)
@given(data=st.data())
def test_damaged_log_resume(data: st.DataObject, base_run: Path, tmp_path: Path) -> None:
    """``ganzoo train --resume RUN --iterations 3`` with a damaged log: the resume drops what it
    cannot read and trains (exit 0), or fails leaving everything as it was."""
    run = fuzzkit.copy_run(base_run, tmp_path)
    log = run / "metrics.jsonl"
    log.write_bytes(data.draw(damaged_log(log.read_bytes()), label="metrics.jsonl"))
    before = fuzzkit.files(run)
    try:
        result = fuzzkit.invoke(["train", "--resume", run, "--iterations", "3", "--data-dir", FIXTURE])
    finally:
        fuzzkit.reset_threads()
    fuzzkit.check_result(result, (0, 1))
    if result.exit_code != 0:
        unchanged(before, run)


# -- the user's settings file (config.toml) ---------------------------------------------------------

TOML_VALUES = st.one_of(
    st.sampled_from(['"cpu"', '"cuda"', "true", "1e400", "nan", "inf", "-inf", "1979-05-27", "07:32:00"])
    | st.sampled_from(["[]", "[1, 2]", '["a"]', "{}", "{ a = 1 }", '""', "[0.5, 0.999]", "0x10", "1_0"]),
    fuzzkit.INTS.map(str),
    fuzzkit.FLOATS.filter(lambda x: x == x and abs(x) != float("inf")).map(repr),
    st.text(max_size=8).map(json.dumps),
)
#: Mostly the two tables the file may have, so that most examples get past the file's own checks.
SECTIONS = st.sampled_from(["train"] * 4 + ["paths"] * 2 + ["train.sub", "other", "", "train]\n[train"])
TOML_KEYS = {
    "train": st.one_of(st.sampled_from(sorted(TRAIN_KEYS)), st.text(max_size=6)),
    "paths": st.one_of(st.sampled_from(["data", "runs"]), st.text(max_size=6)),
}


@st.composite
def settings_file(draw: st.DrawFn) -> bytes:
    """A config.toml: tables of keys and values of any type, or a valid one damaged byte by byte."""
    if draw(st.booleans()):
        valid = b'[train]\nbatch_size = 64\nlr_g = 0.0002\nprior = "uniform"\n[paths]\nruns = "elsewhere"\n'
        return draw(damaged(valid))
    lines = []
    for section in draw(st.lists(SECTIONS, min_size=1, max_size=2)):
        lines.append(f"[{section}]")
        keys = TOML_KEYS.get(section, st.text(max_size=6))
        for key, value in draw(st.lists(st.tuples(keys, TOML_VALUES), max_size=3)):
            lines.append(f"{json.dumps(key) if key != key.strip() or not key else key} = {value}")
    return "\n".join(lines).encode("utf-8", "surrogatepass")


@fuzz_settings(150)
@given(content=settings_file())
def test_settings_file_plan(content: bytes, tmp_path: Path, recipes_once: None) -> None:
    """A new run planned and built under a damaged or odd settings file: refused in one sentence, or
    built; the settings file and the run folder are left alone."""
    from ganzoo import planning, user_settings
    from ganzoo.manager import get_manager
    from ganzoo.training import launch

    path = user_settings.path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    fuzzkit.fresh_settings_file()
    try:
        for key, value in user_settings.train().items():
            assume(not fuzzkit.risky(key, value))
    except Exception:  # a broken file: the plan below must refuse it in one sentence
        pass
    out = fuzzkit.scratch(tmp_path) / "run"

    def go() -> None:
        request = Request("vanilla-mlp", "mnist", options={"iterations": 2, "device": "cpu"})
        plan = planning.new_run(request, fuzzkit.lookup(), out=out, data_dir=FIXTURE)
        launch.build(plan, get_manager())

    try:
        fuzzkit.outcome(go)
    finally:
        fuzzkit.reset_threads()
        fuzzkit.fresh_settings_file()
    assert path.read_bytes() == content
    assert not out.exists()


@fuzz_settings(12)
@given(content=damaged(b'[train]\nbatch_size = 64\nprior = "uniform"\n[paths]\nruns = "r"\n'))
def test_settings_file_train(content: bytes, tmp_path: Path, recipes_once: None) -> None:
    """``ganzoo train`` under a settings file damaged byte by byte: exit 0, 1 or 2, one sentence."""
    from ganzoo import user_settings

    path = user_settings.path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    fuzzkit.fresh_settings_file()
    root = fuzzkit.scratch(tmp_path)
    out = root / "run"
    try:
        result = fuzzkit.invoke(train_argv(FIXTURE, out))
    finally:
        fuzzkit.reset_threads()
        fuzzkit.fresh_settings_file()
    fuzzkit.check_result(result)
    assert path.read_bytes() == content
    if result.exit_code != 0:
        assert not out.exists()
