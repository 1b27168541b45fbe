"""Fuzzing ``ganzoo train``'s settings, ``--set KEY=VALUE`` and ``ganzoo generate``'s options (issue 16).

Most examples go to the layer that refuses before anything trains (``planning.new_run``, which
resolves the settings, then ``training.launch.build``, which builds the data, the networks and the
trainer but writes nothing): a value is either refused in one sentence (a GanzooError) or built.
A few go through the whole command line, where a run that is accepted really trains (two
iterations on the fixture), and must exit 0, 1 or 2 with at most one ``error:`` line.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import fuzzkit
import pytest
from fuzzkit import FIXTURE, INTS, SET_TEXT, TEXT, VALUES, fuzz_settings, risky
from hypothesis import assume, given
from hypothesis import strategies as st

from ganzoo import resolve, settings
from ganzoo.recipes import load_recipes
from ganzoo.resolve import Request, parse_value

TRAIN_KEYS = sorted(settings.TRAIN_KEYS)
#: The fixture run's component hyperparameters, by kind and bare (a bare one reaches every kind).
PARAMS = [
    "generator.hidden",
    "generator.negative_slope",
    "discriminator.hidden",
    "discriminator.negative_slope",
    "discriminator.spectral_norm",
    "loss.label_smoothing",
    "loss.r1",
    "loss.r2",
    "loss.reg_every",
    "dataset.size",
    "hidden",
    "negative_slope",
    "r1",
    "spectral_norm",
]
KEYS = st.one_of(
    st.sampled_from(TRAIN_KEYS),
    st.sampled_from(TRAIN_KEYS).map("train.{}".format),
    st.sampled_from(PARAMS),
    st.text(max_size=10),
)
SET_ITEMS = st.one_of(
    st.builds(lambda key, value: f"{key}={value}", KEYS, SET_TEXT),
    st.builds(lambda key, value: f"{key} = {value}", KEYS, SET_TEXT),
    st.text(max_size=20),
)
NAMES = st.one_of(
    st.none(),
    st.sampled_from(["vanilla-mlp", "dcgan", "sine-1d", "upsample-conv", "bce", "hinge", "wgan-gp", "mnist"]),
    st.sampled_from(["sine", "ganzoo:vanilla-mlp", "nope:vanilla-mlp", "seed-002-vanilla-mlp-mnist"]),
    TEXT,
)


@pytest.fixture
def recipes_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """zoo.toml parsed once per test, not once per example (it costs a quarter of a second)."""
    recipes = load_recipes()
    monkeypatch.setattr(resolve, "load_recipes", lambda: recipes)


def set_value(item: str) -> tuple[str, Any]:
    key, _, raw = item.partition("=")
    return key, parse_value(raw.strip())


def plan_and_build(request: Request, out: Path) -> BaseException | None:
    """A new run planned and built, as ``ganzoo.train`` does before it trains; nothing is written."""
    from ganzoo import planning
    from ganzoo.manager import get_manager
    from ganzoo.training import launch

    def go() -> None:
        plan = planning.new_run(request, fuzzkit.lookup(), out=out, data_dir=FIXTURE)
        launch.build(plan, get_manager())

    try:
        return fuzzkit.outcome(go)
    finally:
        fuzzkit.reset_threads()
        assert not out.exists(), "planning or building wrote the run folder"


@fuzz_settings(250)
@given(items=st.lists(st.tuples(st.sampled_from(TRAIN_KEYS), VALUES), min_size=1, max_size=2))
def test_api_settings_are_refused_in_one_sentence_or_built(
    items: list[tuple[str, Any]], tmp_path: Path, recipes_once: None
) -> None:
    for key, value in items:
        assume(not risky(key, value))
    options = {"iterations": 2, "device": "cpu", **dict(items)}
    plan_and_build(Request("vanilla-mlp", "mnist", options=options), fuzzkit.scratch(tmp_path) / "run")


@fuzz_settings(250)
@given(sets=st.lists(SET_ITEMS, min_size=1, max_size=2))
def test_set_items_are_refused_in_one_sentence_or_built(
    sets: list[str], tmp_path: Path, recipes_once: None
) -> None:
    for item in sets:
        assume(not risky(*set_value(item)))
    request = Request("vanilla-mlp", "mnist", options={"iterations": 2, "device": "cpu"}, sets=tuple(sets))
    plan_and_build(request, fuzzkit.scratch(tmp_path) / "run")


@fuzz_settings(60)
@given(
    arch=st.one_of(st.sampled_from(["vanilla-mlp", "dcgan", "sine-1d"]), TEXT),
    dataset=st.one_of(st.sampled_from(["mnist", "sine", "image-folder"]), TEXT),
    recipe=NAMES,
    generator=NAMES,
    discriminator=NAMES,
    loss=NAMES,
)
def test_component_names_are_refused_in_one_sentence_or_built(
    arch: str,
    dataset: str,
    recipe: str | None,
    generator: str | None,
    discriminator: str | None,
    loss: str | None,
    tmp_path: Path,
    recipes_once: None,
) -> None:
    options = {"iterations": 2, "device": "cpu", "batch_size": 4}
    request = Request(arch, dataset, recipe, generator, discriminator, loss, options)
    plan_and_build(request, fuzzkit.scratch(tmp_path) / "run")


# -- the command line ---------------------------------------------------------------------------

#: ``ganzoo train``'s setting options, as flags; --iterations is always given (2), so it is left out.
OPTIONS = [n for n in TRAIN_KEYS if settings.FIELDS[n].metadata["option"] and n != "iterations"]


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


@st.composite
def train_args(draw: st.DrawFn) -> list[str]:
    """One thing the user may vary: a setting option, --set, another option of train's."""
    what = draw(st.sampled_from(["option", "set", "other"]))
    if what == "set":
        item = draw(SET_ITEMS)
        assume(not risky(*set_value(item), training=True))
        return ["--set", item]
    if what == "other":
        name = draw(st.sampled_from(["--label-smoothing", "--loss", "--generator", "--recipe", "--resume"]))
        return [name, draw(st.one_of(SET_TEXT, NAMES.filter(bool)))]
    name = draw(st.sampled_from(OPTIONS))
    if settings.value_type(name) is bool:  # a flag pair; a compiled run would take a minute
        return [draw(st.sampled_from([_flag(name), "--no-" + _flag(name)[2:]]))] if name != "compile" else []
    text = draw(SET_TEXT)
    for value in [parse_value(text.strip()), *_as_int(text)]:
        assume(not risky(name, value, training=True))
    return [_flag(name), text]


def _as_int(text: str) -> list[int]:
    with contextlib.suppress(ValueError):
        return [int(text)]  # click's INT: int(), which takes "1_000" and " 5 "
    return []


@fuzz_settings(30)
@given(args=st.lists(train_args(), min_size=1, max_size=2))
def test_train_command_line(
    args: list[list[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, recipes_once: None
) -> None:
    root = fuzzkit.scratch(tmp_path)
    monkeypatch.chdir(root)
    out = root / "run"
    base = ["train", "vanilla-mlp", "mnist", "--data-dir", FIXTURE, "--iterations", "2", "--device", "cpu"]
    argv = [*base, "--out", out, *(a for arg in args for a in arg)]
    fixture_before = fuzzkit.files(FIXTURE)
    before = fuzzkit.tree(root, fuzzkit.cache_dir())
    try:
        result = fuzzkit.invoke(argv)
    finally:
        fuzzkit.reset_threads()
    fuzzkit.check_result(result)
    created = fuzzkit.tree(root, fuzzkit.cache_dir()) - before
    assert all(p == out or out in p.parents for p in created), f"wrote outside --out: {sorted(created)}"
    if result.exit_code == 2:
        assert not out.exists(), "a refused run left its folder behind"
    assert fuzzkit.files(FIXTURE) == fixture_before


GENERATE_OPTIONS = {
    "-n": st.one_of(INTS.map(str), SET_TEXT),
    "--seed": st.one_of(INTS.map(str), SET_TEXT),
    "--steps": st.one_of(INTS.map(str), SET_TEXT),
    "--smooth": st.one_of(INTS.map(str), SET_TEXT),
    "--nice-factor": st.one_of(st.integers(-2, 3).map(str), SET_TEXT),
    "-o": st.sampled_from(
        ["x.png", "x.safetensors", "x.jpg", "x.PNG", "pngs/", "pngs", "", ".", "a/b/c.png"]
    ),
    "--device": st.one_of(st.sampled_from(["cpu", "cuda", "mps", "auto"]), TEXT),
    "--class": st.one_of(st.sampled_from(["0", "9", "10", "-1", "seven", " 7 ", "07"]), TEXT),
    "--per-class": st.one_of(st.integers(-2, 4).map(str), SET_TEXT),
}


@fuzz_settings(60)
@given(
    options=st.dictionaries(st.sampled_from(sorted(GENERATE_OPTIONS)), st.just(None), min_size=1, max_size=3),
    flags=st.lists(st.sampled_from(["--interpolate", "--nice"]), max_size=2, unique=True),
    conditional=st.booleans(),
    data=st.data(),
)
def test_generate_command_line(
    options: dict[str, None],
    flags: list[str],
    conditional: bool,
    data: st.DataObject,
    base_run: Path,
    base_conditional_run: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    argv: list[Any] = ["generate"]
    for name in options:
        text = data.draw(GENERATE_OPTIONS[name], label=name)
        if name in ("-n", "--steps", "--nice-factor"):
            assume(not any(4096 <= v < 2**31 for v in _as_int(text)))
        argv += [name, text]
    run = fuzzkit.copy_run(base_conditional_run if conditional else base_run, tmp_path)
    monkeypatch.chdir(run.parent)
    before_files, before = fuzzkit.files(run), fuzzkit.tree(run.parent)
    result = fuzzkit.invoke([*argv[:1], run, *argv[1:], *flags])
    fuzzkit.check_result(result)
    after = fuzzkit.files(run)
    assert {k: after.get(k) for k in before_files} == before_files, "generate changed the run's files"
    if result.exit_code != 0:
        assert fuzzkit.tree(run.parent) == before, "a refused generate left files behind"


#: Values every setting and hyperparameter is tried with, below: the edges random examples rarely
#: reach for one particular key (past 2^64, past a float's range, a TOML date, inf, nan).
EDGES = ["18446744073709551616", "1" + "0" * 400, "-1", "nan", "-inf", "1979-05-27", "[1, 2]", "x"]


def test_every_key_with_edge_values(tmp_path: Path, recipes_once: None) -> None:
    """Every training setting and hyperparameter, each edge value: refused in one sentence or built.

    One test that gathers what goes wrong (the exception, and where) so that a failure lists each
    distinct problem once, with the first ``--set`` that showed it."""
    problems: dict[tuple[str, str], str] = {}
    for key in [*TRAIN_KEYS, *(p for p in PARAMS if "." in p)]:
        for text in EDGES:
            if risky(key, parse_value(text)):
                continue
            request = Request(
                "vanilla-mlp", "mnist", options={"iterations": 2, "device": "cpu"}, sets=(f"{key}={text}",)
            )
            try:
                plan_and_build(request, fuzzkit.scratch(tmp_path) / "run")
            except Exception as exc:  # gathered, reported below
                tb = exc.__traceback__
                while tb is not None and tb.tb_next is not None:
                    tb = tb.tb_next
                where = f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}" if tb else "?"
                what = f"{type(exc).__name__}: {str(exc).splitlines()[0][:120] if str(exc) else ''}"
                problems.setdefault((type(exc).__name__, where), f"--set {key}={text[:30]} -> {what}")
    assert not problems, "\n".join(problems.values())
