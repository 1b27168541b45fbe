"""The user's own defaults: GANZOO_HOME and the settings file, broken ones included."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import ganzoo
from ganzoo import user_settings
from ganzoo.cli import cli

FIXTURE = Path(__file__).parent / "fixtures" / "mnist"


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


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("train = 3\n", "'train' must be a table [train]"),
        ("paths = [1]\n", "'paths' must be a table [paths]"),
        ("[paths]\nruns = 5\n", "[paths] runs must be a folder, got 5"),
        ("[paths]\ndata = [1]\n", "[paths] data must be a folder, got [1]"),
        ("data = [1]\n", "has an unknown key 'data'; it knows the tables [train] and [paths]"),
        ("[train]\nbatch_size = -1\n", "[train] batch_size must be a positive whole number, got -1"),
        ("[train]\nprior = 3\n", "[train] prior must be one of"),
    ],
)
def test_a_wrong_value_in_the_config_file_names_the_file_and_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, message: str
) -> None:
    monkeypatch.setenv("GANZOO_HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config.toml").write_text(text)
    result = CliRunner().invoke(cli, ["train", "vanilla-mlp", "mnist", "--data-dir", str(FIXTURE)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert (
        f"The ganzoo settings file {tmp_path / 'config.toml'}" in result.stderr and message in result.stderr
    )
    assert not (tmp_path / "runs").exists()
