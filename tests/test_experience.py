"""What a user sees around a run: the Python API, pictures, `show`, completion, the user's own
defaults (environment and config file) and plain output when nothing is a terminal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch
from click.testing import CliRunner
from PIL import Image

import ganzoo
from ganzoo import user_settings
from ganzoo.cli import cli
from ganzoo.errors import UsageError

FIXTURE = Path(__file__).parent / "fixtures" / "mnist"


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> ganzoo.Run:
    out = tmp_path_factory.mktemp("api") / "run"
    return ganzoo.train(
        "vanilla-mlp",
        "mnist",
        out=out,
        data_dir=FIXTURE,
        iterations=20,
        seed=0,
        device="cpu",
        sample_every=10,
    )


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


def test_import_ganzoo_stays_light() -> None:
    code = "import sys, ganzoo; ganzoo.list_components(); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


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


def test_slerp_stays_on_the_sphere_between_its_ends() -> None:
    from ganzoo.loaded import slerp

    a, b = torch.tensor([[3.0, 0.0]]), torch.tensor([[0.0, 3.0]])
    path = slerp(a, b, torch.linspace(0, 1, 5))[0]
    assert torch.allclose(path.norm(dim=1), torch.full((5,), 3.0), atol=1e-5)
    assert torch.allclose(path[0], a[0]) and torch.allclose(path[-1], b[0], atol=1e-6)


def test_show_summarises_a_run_as_a_table_and_as_json(run: ganzoo.Run) -> None:
    result = CliRunner().invoke(cli, ["show", str(run.run_dir)])
    assert result.exit_code == 0, result.output
    for text in ("finished", "seed-002-vanilla-mlp-mnist", "20 of 20", "D loss", "generator.safetensors"):
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


def test_completion_scripts_and_component_names() -> None:
    for shell, marker in (
        ("bash", "complete -o nosort -F"),
        ("zsh", "#compdef ganzoo"),
        ("fish", "complete"),
    ):
        result = CliRunner().invoke(cli, ["completion", shell])
        assert result.exit_code == 0 and marker in result.output and "_GANZOO_COMPLETE" in result.output
    env = {
        **os.environ,
        "_GANZOO_COMPLETE": "bash_complete",
        "COMP_WORDS": "ganzoo train van",
        "COMP_CWORD": "2",
    }
    out = subprocess.run([sys.executable, "-m", "ganzoo"], env=env, capture_output=True, text=True).stdout
    assert "plain,vanilla-mlp" in out.splitlines()
    env.update(COMP_WORDS="ganzoo train vanilla-mlp --loss wg", COMP_CWORD="4")
    out = subprocess.run([sys.executable, "-m", "ganzoo"], env=env, capture_output=True, text=True).stdout
    assert out.splitlines() == ["plain,wgan-gp"]


def _resolved(tmp_path: Path, **options: Any) -> dict[str, Any]:
    """The settings a run would record, without training: its config.json after 1 iteration."""
    out = tmp_path / f"run{len(list(tmp_path.iterdir()))}"
    r = ganzoo.train("vanilla-mlp", "mnist", out=out, data_dir=FIXTURE, iterations=1, seed=0, **options)
    return dict(r.config["run"]["train"])


def test_precedence_cli_over_env_over_config_file_over_recipe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("GANZOO_HOME", str(home))
    runs = tmp_path / "runs"
    runs.mkdir()
    assert _resolved(runs)["batch_size"] == 128  # the recipe
    (home / "config.toml").write_text('[train]\nbatch_size = 32\ndevice = "auto"\nsample_every = 7\n')
    train = _resolved(runs)
    assert train["batch_size"] == 32 and train["sample_every"] == 7 and train["device"] == "auto"
    monkeypatch.setenv("GANZOO_DEVICE", "cpu")
    assert _resolved(runs)["device"] == "cpu"  # the environment beats the file
    assert _resolved(runs, batch_size=16)["batch_size"] == 16  # the command line beats both
    monkeypatch.setenv("GANZOO_DEVICE", "tpu")
    with pytest.raises(UsageError, match="--device must be auto, cpu"):
        _resolved(runs)
    assert _resolved(runs, device="cpu")["device"] == "cpu"


def test_ganzoo_home_holds_the_runs_and_the_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GANZOO_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    assert user_settings.path() == tmp_path / "home" / "config.toml"
    r = ganzoo.train("vanilla-mlp", "mnist", data_dir=FIXTURE, iterations=1, seed=0, device="cpu")
    assert r.run_dir.parent == tmp_path / "home" / "runs"
    assert not (tmp_path / "runs").exists()


def test_a_broken_config_file_is_one_sentence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GANZOO_HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    for text, message in (
        ("[train\n", "is not valid TOML"),
        ("[trian]\n", "unknown table [trian]"),
        ("[train]\nbatchsize = 3\n", "[train] key 'batchsize' is not a training setting"),
        ("[paths]\ncache = 'x'\n", "[paths] key 'cache' is not one of data, runs"),
    ):
        (tmp_path / "config.toml").write_text(text)
        result = CliRunner().invoke(cli, ["train", "vanilla-mlp", "mnist", "--data-dir", str(FIXTURE)])
        assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "runs").exists()


def test_the_config_file_can_name_the_data_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GANZOO_HOME", str(tmp_path))
    (tmp_path / "config.toml").write_text(f'[paths]\ndata = "{FIXTURE}"\n')
    r = ganzoo.train("vanilla-mlp", "mnist", out=tmp_path / "run", iterations=1, seed=0, device="cpu")
    assert r.config["data_size"] == 256  # the fixture's digits, found through the config file


def test_output_through_a_pipe_has_no_control_codes(tmp_path: Path) -> None:
    env = {**os.environ, "TERM": "xterm-256color", "FORCE_COLOR": ""}
    env.pop("FORCE_COLOR")
    cmd = [sys.executable, "-m", "ganzoo", "train", "vanilla-mlp", "mnist", "--data-dir", str(FIXTURE)]
    cmd += ["--iterations", "20", "--seed", "0", "--device", "cpu", "--out", str(tmp_path / "run")]
    cmd += ["--set", "log_every=5"]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    both = done.stdout + done.stderr
    assert "step 20/20" in both and "\x1b" not in both and "\r" not in both
    for argv in (["list"], ["show", str(tmp_path / "run")], ["train", "nope", "mnist"]):
        proc = subprocess.run(
            [sys.executable, "-m", "ganzoo", *argv], capture_output=True, text=True, env=env
        )
        assert "\x1b" not in proc.stdout + proc.stderr
    assert "error: Unknown generator 'nope'" in proc.stderr


def test_version_names_ganzoo_torch_and_the_device() -> None:
    out = CliRunner().invoke(cli, ["--version"]).output
    assert out.startswith(f"ganzoo {ganzoo.__version__}\ntorch {torch.__version__}")
    assert "device: cpu" in out or "device: cuda" in out or "device: mps" in out


def test_tensorboard_logs_the_figures_and_grids(tmp_path: Path) -> None:
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run = ganzoo.train(
        "vanilla-mlp", "mnist", out=tmp_path / "run", data_dir=FIXTURE, iterations=20, seed=0,
        device="cpu", sample_every=10, tensorboard=True, sets=["log_every=5"],
    )  # fmt: skip
    events = EventAccumulator(str(run.run_dir / "tensorboard"))
    events.Reload()
    g_loss = events.Scalars("train/g_loss")
    assert [e.step for e in g_loss] == [5, 10, 15, 20]
    logged = [r["g_loss"] for r in run.metrics()]
    assert [round(e.value, 5) for e in g_loss] == [round(v, 5) for v in logged]
    assert [e.step for e in events.Images("samples")] == [10, 20]


def test_tensorboard_without_the_package_is_one_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # as if not installed
    with pytest.raises(UsageError, match=r"--tensorboard needs the tensorboard package.*pip install"):
        ganzoo.train(
            "vanilla-mlp", "mnist", out=tmp_path / "run", data_dir=FIXTURE, iterations=2, tensorboard=True
        )
    assert not (tmp_path / "run").exists()


def test_train_json_prints_one_object_and_no_progress(tmp_path: Path) -> None:
    args = ["train", "vanilla-mlp", "mnist", "--data-dir", str(FIXTURE), "--iterations", "10", "--seed", "0"]
    result = CliRunner().invoke(cli, [*args, "--device", "cpu", "--out", str(tmp_path / "run"), "--json"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["steps"] == 10 and record["run_dir"] == str(tmp_path / "run") and "g_loss" in record["last"]


def test_show_draws_the_latest_grid_in_a_terminal(run: ganzoo.Run) -> None:
    from rich.console import Console

    from ganzoo.plots import grid_as_text

    grid = Path(ganzoo.show(run.run_dir)["latest_grid"])
    text = grid_as_text(grid, 40)
    lines = text.plain.split("\n")
    assert len(lines) == 20 and all(line == "▀" * 40 for line in lines)  # 122x122 px → 40 wide, 40 tall
    console = Console(force_terminal=True, color_system="truecolor", width=80)
    with console.capture() as cap:
        console.print(text)
    assert "\x1b[38;2;" in cap.get() and "48;2;" in cap.get()  # true-colour fore- and background
    # Through a pipe, show prints no picture unless asked to.
    plain = CliRunner().invoke(cli, ["show", str(run.run_dir)]).output
    assert "▀" not in plain
