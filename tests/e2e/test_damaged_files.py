"""Damaged files, through the real CLI: one sentence naming the file, no traceback, nothing changed.

Each test damages a copy of a finished run (or a copy of the real-digit fixture) the way a full
disk, a copy that stopped, a flipped bit or a hand edit would, then runs what a user would run.
"""

from __future__ import annotations

import gzip
import json
import shutil
import struct
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from ganzoo.cli import cli


def _invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


def _snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` and its bytes (dotfiles aside: a lock is another test's business)."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
    }


def _refused(result: Result, code: int, fragment: str) -> None:
    assert result.exit_code == code, result.output
    assert fragment in result.stderr, result.stderr
    assert "Traceback" not in result.output and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr  # one line, one sentence


@pytest.fixture
def copy(run: Any, tmp_path: Path) -> Path:
    """A copy of the session's finished run, ours to damage."""
    return Path(shutil.copytree(run.path, tmp_path / "run"))


def _rewrite_metadata(path: Path, key: str, value: str) -> None:
    with safe_open(str(path), "pt") as f:
        metadata = dict(f.metadata())
    metadata[key] = value
    save_file(load_file(str(path)), str(path), metadata=metadata)


# -- metrics.jsonl ---------------------------------------------------------------------------------


def test_a_log_with_bytes_that_are_not_utf8_is_shown_and_resumed(copy: Path) -> None:
    log = copy / "metrics.jsonl"
    steps = [json.loads(line)["step"] for line in log.read_text().splitlines()]
    log.write_bytes(log.read_bytes() + b"\xff\xfe\x80\x81 random bytes\n")
    shown = _invoke("show", copy)
    assert shown.exit_code == 0 and "Traceback" not in shown.output, shown.output
    assert "1 damaged line of metrics.jsonl skipped" in shown.stdout
    assert json.loads(_invoke("show", copy, "--json").stdout)["log_skipped"] == 1

    resumed = _invoke("train", "--resume", copy, "--iterations", "30")
    assert resumed.exit_code == 0 and "Traceback" not in resumed.output, resumed.output
    rows = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]  # whole again
    assert [r["step"] for r in rows] == [*steps, 30]


# -- config.json -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "shown"), [("x", "'x'"), (-1, "-1")], ids=["text", "negative"])
@pytest.mark.parametrize(
    "command",
    [("show",), ("generate", "-n", "4"), ("train", "--resume")],
    ids=["show", "generate", "resume"],
)
def test_a_bad_value_in_config_json_names_the_file_and_the_key(
    copy: Path, value: Any, shown: str, command: tuple[str, ...]
) -> None:
    doc = json.loads((copy / "config.json").read_text())
    doc["run"]["train"]["batch_size"] = value
    (copy / "config.json").write_text(json.dumps(doc))
    before = _snapshot(copy)
    args = (*command, copy) if command[0] != "train" else (*command, copy, "--iterations", "30")
    _refused(
        _invoke(*args),
        1,
        f"{copy / 'config.json'} is damaged or not a ganzoo run config: "
        f"run.train.batch_size must be a positive whole number, got {shown}.",
    )
    assert _snapshot(copy) == before


def test_a_config_json_with_a_flipped_byte_that_is_not_utf8_is_one_sentence(copy: Path) -> None:
    data = bytearray((copy / "config.json").read_bytes())
    data[10] = 0xFF
    (copy / "config.json").write_bytes(bytes(data))
    _refused(_invoke("show", copy), 1, "config.json is damaged or not a ganzoo run config: it is not JSON.")


# -- the weights' metadata -------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["generate", "eval"])
@pytest.mark.parametrize(
    ("record", "fragment"),
    [
        ('{"run": {"generator": ', "is damaged: the run record in its metadata is not JSON."),
        ("[1, 2]", "is damaged: the run record in its metadata is not a JSON object."),
        ('{"run": 5}', "metadata is damaged: run must be a JSON object, got 5."),
    ],
    ids=["not-json", "not-an-object", "wrong-shape"],
)
def test_a_weights_file_whose_record_is_damaged_names_the_file(
    copy: Path, mnist_dir: Path, command: str, record: str, fragment: str
) -> None:
    for name in ("generator.safetensors", "generator-ema.safetensors"):
        if (copy / name).is_file():
            _rewrite_metadata(copy / name, "config", record)
    before = _snapshot(copy)
    extra = ["-n", "8", "--data-dir", str(mnist_dir)] if command == "eval" else ["-n", "4"]
    result = _invoke(command, copy, *extra)
    _refused(result, 1, fragment)
    assert "generator" in result.stderr and ".safetensors" in result.stderr  # the file, by its name
    assert _snapshot(copy) == before


# -- final weights cut short -----------------------------------------------------------------------


def test_show_calls_a_run_with_a_truncated_generator_damaged_and_resume_mends_it(copy: Path) -> None:
    for name in ("generator.safetensors", "generator-ema.safetensors"):
        if (copy / name).is_file():
            (copy / name).write_bytes((copy / name).read_bytes()[:5000])
    shown = _invoke("show", copy)
    assert shown.exit_code == 0 and "Traceback" not in shown.output
    summary = json.loads(_invoke("show", copy, "--json").stdout)
    assert summary["status"] == "damaged"
    assert summary["damage"].startswith(
        f"{copy / 'generator.safetensors'} is damaged: it is cut short (5000 of"
    )
    assert (
        summary["fix"]
        == f"Rewrite the final weights from its checkpoint with `ganzoo train --resume {copy}`."
    )
    assert "damaged" in shown.stdout and "finished" not in shown.stdout

    before = _snapshot(copy)
    _refused(_invoke("generate", copy, "-n", "4"), 1, "is damaged: it is cut short (5000 of")
    assert _snapshot(copy) == before

    assert _invoke("train", "--resume", copy).exit_code == 0  # the fix show names works
    assert json.loads(_invoke("show", copy, "--json").stdout)["status"] == "finished"


def test_show_calls_an_unfinished_run_with_a_truncated_checkpoint_damaged(copy: Path) -> None:
    doc = json.loads((copy / "config.json").read_text())
    del doc["result"]  # as a run killed before its end
    (copy / "config.json").write_text(json.dumps(doc))
    checkpoint = copy / "checkpoint" / "state.safetensors"
    checkpoint.write_bytes(checkpoint.read_bytes()[:100_000])
    summary = json.loads(_invoke("show", copy, "--json").stdout)
    assert summary["status"] == "damaged" and "resume" not in summary
    assert summary["damage"].startswith(f"{checkpoint} is damaged: it is cut short (100000 of")

    before = _snapshot(copy)
    _refused(_invoke("train", "--resume", copy), 1, f"{checkpoint} is damaged: it is cut short (100000 of")
    assert _snapshot(copy) == before


def test_a_checkpoint_whose_metadata_json_is_damaged_is_one_sentence(copy: Path) -> None:
    checkpoint = copy / "checkpoint" / "state.safetensors"
    _rewrite_metadata(checkpoint, "optimizers", '{"generator": {"param_groups": [')
    _refused(
        _invoke("train", "--resume", copy, "--iterations", "30"),
        1,
        f"{checkpoint} is damaged or does not fit this run, so it cannot be resumed",
    )


# -- dataset files ---------------------------------------------------------------------------------


def _data_with(tmp_path: Path, mnist_dir: Path, write: Any) -> Path:
    folder = Path(shutil.copytree(mnist_dir, tmp_path / "data"))
    write(folder / "train-images-idx3-ubyte.gz")
    return folder


def test_a_gzip_bomb_in_place_of_the_images_is_refused(tmp_path: Path, mnist_dir: Path) -> None:
    def bomb(path: Path) -> None:
        with gzip.open(path, "wb", compresslevel=1) as gz:  # 256 images declared, 32 MB of zeros
            gz.write(b"\x00\x00\x08\x03" + struct.pack(">3I", 256, 28, 28))
            for _ in range(32):
                gz.write(bytes(1 << 20))

    data = _data_with(tmp_path, mnist_dir, bomb)
    out = tmp_path / "new-run"
    result = _invoke("train", "vanilla-mlp", "mnist", "--data-dir", data, "--out", out, "--iterations", "2")
    _refused(result, 1, "expected 200704 bytes of data after its header, found more")
    assert not out.exists()


def test_a_file_of_zero_images_is_refused_naming_it(tmp_path: Path, mnist_dir: Path) -> None:
    def empty(path: Path) -> None:
        path.write_bytes(gzip.compress(b"\x00\x00\x08\x03" + struct.pack(">3I", 0, 28, 28)))

    data = _data_with(tmp_path, mnist_dir, empty)
    (data / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(b"\x00\x00\x08\x01" + bytes(4)))
    out = tmp_path / "new-run"
    result = _invoke("train", "vanilla-mlp", "mnist", "--data-dir", data, "--out", out, "--iterations", "2")
    _refused(result, 1, f"{data / 'train-images-idx3-ubyte.gz'} holds no images")
    assert not out.exists()
