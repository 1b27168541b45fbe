"""The Python API a user calls: train, load_generator, generate (every format), show."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from click.testing import CliRunner
from PIL import Image
from safetensors.torch import load_file

import ganzoo
from ganzoo import api
from ganzoo.cli import cli


def test_generate_is_repeatable_and_writes_each_format(
    tmp_path: Path, train_short: Callable[..., Any]
) -> None:
    run = tmp_path / "run"
    train_short(run)
    api.generate(run, n=10, seed=3, out=tmp_path / "a.safetensors")
    api.generate(run, n=10, seed=3, out=tmp_path / "b.safetensors")
    api.generate(run, n=10, seed=4, out=tmp_path / "c.safetensors")
    a, b, c = (load_file(str(tmp_path / f"{x}.safetensors"))["samples"] for x in "abc")
    assert a.shape == (10, 1, 28, 28) and a.dtype == torch.float32
    assert float(a.min()) >= 0.0 and float(a.max()) <= 1.0
    assert torch.equal(a, b) and not torch.equal(a, c)
    api.generate(run, n=9, seed=3, out=tmp_path / "grid.png")
    assert Image.open(tmp_path / "grid.png").size == (3 * 30 + 2, 3 * 30 + 2)
    api.generate(run, n=3, seed=3, out=tmp_path / "each")
    assert sorted(p.name for p in (tmp_path / "each").iterdir()) == ["000000.png", "000001.png", "000002.png"]
    api.generate(run, n=4, seed=3, nice=True, out=tmp_path / "nice.png")
    assert Image.open(tmp_path / "nice.png").size == (2 * 30 + 2, 2 * 30 + 2)


def test_nice_keeps_the_candidates_the_scorer_rates_highest() -> None:
    candidates = torch.arange(10.0).view(10, 1)
    best = api.top_scored(candidates, lambda x: -((x.view(-1) - 6.2) ** 2), 3)
    assert best.view(-1).tolist() == [6.0, 7.0, 5.0]


FIXTURE = Path(__file__).parent / "fixtures" / "mnist"


def test_the_api_round_trip_samples_the_same_images_for_the_same_seed(run: ganzoo.Run) -> None:
    assert isinstance(run, ganzoo.Run) and run.steps == 20 and run.run_dir.is_dir()
    assert run.config["seed"] == 0 and run.metrics()[-1]["step"] == 20
    g = ganzoo.load_generator(run.run_dir, device="cpu")
    assert isinstance(g, torch.nn.Module)
    a, b, c = g.sample(8, seed=3), g.sample(8, seed=3), g.sample(8, seed=4)
    assert a.shape == (8, 1, 28, 28) and float(a.min()) >= 0 and float(a.max()) <= 1
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert torch.equal(run.load_generator().sample(2, seed=1), g.sample(2, seed=1))
    assert {c["name"] for c in ganzoo.list_components("generator")} >= {"vanilla-mlp", "dcgan"}


def test_interpolation_grid_walks_between_two_points(run: ganzoo.Run, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["generate", str(run.run_dir), "--interpolate", "-n", "3", "--steps", "5", "--seed", "0",
              "-o", str(tmp_path / "walk.png")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "3 walks of 5 samples" in result.output
    assert Image.open(tmp_path / "walk.png").size == (5 * 30 + 2, 3 * 30 + 2)  # 5 columns, 3 rows
    walk = ganzoo.load_generator(run.run_dir).interpolate(2, steps=4, seed=1)
    assert walk.shape == (8, 1, 28, 28)
    # The ends of each row are the two random points' samples: slerp starts and ends on them.
    g = ganzoo.load_generator(run.run_dir)
    ends = g.noise(4, seed=1)
    assert torch.allclose(walk[0], g.decode(ends[:1])[0], atol=1e-5)
    assert torch.allclose(walk[3], g.decode(ends[2:3])[0], atol=1e-5)


def test_show_summarises_a_run_as_a_table_and_as_json(run: ganzoo.Run) -> None:
    result = CliRunner().invoke(cli, ["show", str(run.run_dir)])
    assert result.exit_code == 0, result.output
    for text in ("finished", "vanilla-mlp-mnist", "20 of 20", "D loss", "generator.safetensors"):
        assert text in result.output
    assert "\x1b[" not in result.output  # not a terminal: no colour codes
    info = json.loads(CliRunner().invoke(cli, ["show", str(run.run_dir), "--json"]).output)
    assert info["status"] == "finished" and info["steps"] == 20 and info["seed"] == 0
    assert info["latest_grid"].endswith("step-0000020.png")
    assert "samples/progress.gif" in info["files"]


def test_show_of_an_unfinished_run_says_how_to_resume(run: ganzoo.Run, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    (run_dir / "samples").mkdir(parents=True)
    record = run.config
    del record["result"]
    (run_dir / "config.json").write_text(json.dumps(record))
    (run_dir / "metrics.jsonl").write_text('{"step": 10, "g_loss": 1.0, "d_loss": 0.5}\n{"step": 2')
    info = ganzoo.show(run_dir)
    assert info["status"] == "unfinished" and info["steps"] == 10
    assert info["resume"] == f"ganzoo train --resume {run_dir}"


def test_the_memory_check_of_generate_runs_on_the_generators_device(run: Any) -> None:
    """The check measures the generator where it lives (a CUDA one must not get CPU zeros); the
    meta device stands in for another device on a machine with none."""
    import torch

    from ganzoo.commands.generate import _check_samples_fit
    from ganzoo.loaded import LoadedGenerator

    g = api.load_generator(run.run_dir)
    elsewhere = LoadedGenerator(g.module, g.record, torch.device("meta"))
    _check_samples_fit(elsewhere, 4, 1, interpolate=False, nice=False)


def test_each_command_returns_a_typed_result_that_reads_as_before(run: Any, tmp_path: Path) -> None:
    """show, eval, generate, data and list return dataclasses (attributes, ``to_json()`` for --json),
    which still read as the dicts of ganzoo 0.2 (``info["steps"]``), so scripts keep working."""
    import json

    from ganzoo.api import ComponentRow, DataRow, Evaluation, Generated, RunInfo

    info = api.show(run.run_dir)
    assert isinstance(info, RunInfo) and info.steps == info["steps"] == 20 and info.status == "finished"
    assert "resume" not in info and info.get("resume") is None  # left out of the JSON, as before
    assert json.loads(json.dumps(info.to_json()))["files"] == info.files
    result = api.evaluate(run.run_dir, n=64, batch_size=32)
    assert isinstance(result, Evaluation) and result.metrics["fd"] == result["metrics"]["fd"] > 0
    assert result.averaged is True and result.generator == "moving average (--ema)"  # the recipe's EMA
    out = api.generate(run.run_dir, n=4, seed=0, out=tmp_path / "four.png")
    assert isinstance(out, Generated) and out.path == tmp_path / "four.png" and out.count == 4
    assert Path(out).is_file() and out.where_asked  # os.fspath: it still opens as the path it was
    rows = api.data_status()
    assert all(isinstance(r, DataRow) for r in rows) and {r.name for r in rows} >= {"mnist", "sine"}
    components = api.list_components("generator")
    assert all(isinstance(c, ComponentRow) for c in components)
    assert {c.name for c in components} == {c["name"] for c in components} >= {"dcgan", "vanilla-mlp"}


def test_a_hub_folder_says_in_a_field_whether_its_weights_are_averaged(run: Any, tmp_path: Path) -> None:
    """`ganzoo export --format hub` writes ``averaged`` in config.json; loading reads that field, not
    the words describing the weights (older folders, without it, are still read by their words)."""
    import json

    from ganzoo.export import export_hub
    from ganzoo.rundir import load_generator

    hub = export_hub(Path(run.run_dir), tmp_path / "hub")
    doc = json.loads((hub / "config.json").read_text())
    assert doc["averaged"] is True and load_generator(hub).ema  # the recipe keeps an EMA
    doc["weights"] = "final weights"  # the words now say otherwise: the field wins
    (hub / "config.json").write_text(json.dumps(doc))
    assert load_generator(hub).ema
    del doc["averaged"]  # a folder written before the field: its words decide
    (hub / "config.json").write_text(json.dumps(doc))
    assert not load_generator(hub).ema


def test_truncation_in_generate_and_eval_is_recorded_and_narrows_the_samples(
    run: Any, tmp_path: Path
) -> None:
    """``--truncation ψ`` samples nearer the prior's centre (the samples vary less), says so in the
    file's metadata and in eval's protocol, and a truncated eval does not stand for the run in
    eval.json (compare and show read it)."""
    import json

    from safetensors import safe_open

    full = api.generate(run.run_dir, n=256, seed=0, out=tmp_path / "full.safetensors")
    low = api.generate(run.run_dir, n=256, seed=0, out=tmp_path / "low.safetensors", truncation=0.3)
    a, b = load_file(str(full.path))["samples"], load_file(str(low.path))["samples"]
    assert b.std(dim=0).mean() < a.std(dim=0).mean()
    with safe_open(str(low.path), "pt") as f:
        assert f.metadata()["truncation"] == "0.3"
    eval_json = Path(run.run_dir) / "eval.json"
    before = eval_json.read_text() if eval_json.exists() else None
    result = api.evaluate(run.run_dir, n=64, batch_size=32, truncation=0.5)
    assert result.protocol["truncation"] == 0.5
    assert (eval_json.read_text() if eval_json.exists() else None) == before
    assert "truncation" not in api.evaluate(run.run_dir, n=64, batch_size=32).protocol
    assert json.loads(eval_json.read_text())["protocol"].get("truncation") is None
