"""--tracker mlflow|wandb, read back with the trackers' own libraries: MLflow's local store and a real
``mlflow server`` on 127.0.0.1 through MLflow's client, W&B's offline run file record by record.
A tracker that fails warns once and training goes on; a missing package is one sentence."""

from __future__ import annotations

import json
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ganzoo.errors import UsageError

mlflow = pytest.importorskip("mlflow", reason="the test extra installs mlflow (pip install 'ganzoo[mlflow]')")

SETS = ["sample_every=10", "log_every=10", "eval_n=64"]


def tracked(train_short: Callable[..., Any], out: Path, tracker: list[str], **options: Any) -> Any:
    return train_short(out, iterations=20, tracker=tracker, eval_every=20, sets=SETS, **options)


def mlflow_run(run_dir: Path, uri: str) -> tuple[Any, Any]:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    run_id = json.loads((run_dir / "trackers.json").read_text())["mlflow"]
    return client, client.get_run(run_id)


def check_mlflow(run_dir: Path, uri: str) -> None:
    client, run = mlflow_run(run_dir, uri)
    assert run.info.status == "FINISHED" and run.info.run_name == run_dir.name
    assert run.data.params["train.iterations"] == "20" and run.data.params["generator"] == "vanilla-mlp"
    assert [m.step for m in client.get_metric_history(run.info.run_id, "g_loss")] == [10, 20]
    assert "eval.fd" in run.data.metrics  # --eval-every's figures
    samples = [a.path for a in client.list_artifacts(run.info.run_id, "samples")]
    assert samples == ["samples/step-0000010.png", "samples/step-0000020.png"]
    model = {a.path for a in client.list_artifacts(run.info.run_id, "model")}
    assert {"model/generator.safetensors", "model/config.json", "model/README.md"} <= model


def test_mlflow_logs_to_its_local_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, train_short: Callable[..., Any]
) -> None:
    """No MLFLOW_TRACKING_URI: MLflow's own default, mlflow.db and ./mlruns where the command runs."""
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    tracked(train_short, tmp_path / "run", ["mlflow"])
    assert (tmp_path / "mlflow.db").is_file() and (tmp_path / "mlruns").is_dir()
    check_mlflow(tmp_path / "run", f"sqlite:///{tmp_path / 'mlflow.db'}")


@pytest.fixture
def mlflow_server(tmp_path: Path) -> Iterator[str]:
    """A real ``mlflow server`` on 127.0.0.1, its store in a temporary folder."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    store = tmp_path / "server"
    store.mkdir()
    cmd = [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
           "--backend-store-uri", f"sqlite:///{store / 'mlflow.db'}",
           "--artifacts-destination", str(store / "artifacts"), "--workers", "1"]  # fmt: skip
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=store)
    uri = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if server.poll() is not None or time.time() > deadline:
                    pytest.fail(f"mlflow server did not start: {server.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
                time.sleep(0.5)
        yield uri
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_mlflow_logs_to_a_tracking_server(
    mlflow_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, train_short: Callable[..., Any]
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server)
    monkeypatch.chdir(tmp_path)
    tracked(train_short, tmp_path / "run", ["mlflow"])
    assert not (tmp_path / "mlflow.db").exists()  # all of it went to the server
    check_mlflow(tmp_path / "run", mlflow_server)


def wandb_records(run_file: Path) -> list[Any]:
    """The records of a W&B run file: a 7-byte header (":W&B", magic, version), then LevelDB's log
    format (32 KiB blocks of chunks: crc32c, length, type), each record a protobuf ``Record``."""
    from wandb.proto import wandb_internal_pb2 as pb

    data = run_file.read_bytes()
    assert data[:4] == b":W&B", data[:8]
    records, pos, pending = [], 7, b""
    while pos + 7 <= len(data):
        left = 32768 - pos % 32768
        if left < 7:  # a block's tail too short for a chunk header is padding
            pos += left
            continue
        _crc, length, kind = struct.unpack("<IHB", data[pos : pos + 7])
        chunk = data[pos + 7 : pos + 7 + length]
        pos += 7 + length
        if kind == 0 and length == 0:
            continue
        pending += chunk
        if kind in (1, 4):  # FULL, LAST
            record = pb.Record()
            record.ParseFromString(pending)
            records.append(record)
            pending = b""
    return records


def test_wandb_offline_run_holds_the_settings_figures_grids_and_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, train_short: Callable[..., Any]
) -> None:
    pytest.importorskip("wandb", reason="the test extra installs wandb (pip install 'ganzoo[wandb]')")
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path))
    run_dir = tmp_path / "run"
    tracked(train_short, run_dir, ["wandb"])
    run_file = next((run_dir / "wandb").glob("offline-run-*/run-*.wandb"))
    records = wandb_records(run_file)
    kinds = [r.WhichOneof("record_type") for r in records]
    # wandb.init(config=...) travels in the run record; later updates in config records
    updates = [r.run.config for r in records if r.HasField("run")]
    updates += [r.config for r in records if r.HasField("config")]
    config = {i.key: json.loads(i.value_json) for u in updates for i in u.update}
    assert config["train.iterations"] == 20 and config["generator"] == "vanilla-mlp"
    history = [
        {i.key or "/".join(i.nested_key): i.value_json for i in r.history.item}
        for r in records
        if r.HasField("history")
    ]
    g_losses = [h for h in history if "g_loss" in h]
    assert [json.loads(h["_step"]) for h in g_losses] == [10, 20]
    grids = [json.loads(h["samples/path"]) for h in history if "samples/path" in h]  # a wandb.Image
    assert len(grids) == 2 and any("eval/fd" in h for h in history)
    assert "artifact" in kinds  # the generator, config.json and the model card
    assert list((run_file.parent / "files" / "media" / "images").glob("samples_*.png"))


def test_a_failing_tracker_warns_once_and_training_goes_on(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    train_short: Callable[..., Any],
    capsys: pytest.CaptureFixture[str],
) -> None:
    calls = []

    def broken(*args: Any, **kwargs: Any) -> None:
        calls.append(1)
        raise ConnectionError("the tracking server went away")

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.setattr(mlflow, "log_metrics", broken)
    run = tracked(train_short, tmp_path / "run", ["mlflow"])
    assert run.steps == 20 and (tmp_path / "run" / "generator.safetensors").is_file()
    err = " ".join(capsys.readouterr().err.split())
    assert err.count("warning: the mlflow tracker failed") == 1 and "training goes on without it" in err
    assert len(calls) == 1  # switched off after its first failure


def test_an_uninstalled_tracker_is_one_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    from ganzoo.training import trackers

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name == "wandb" else real(name))
    with pytest.raises(
        UsageError, match=r"--tracker wandb needs the wandb package, .*pip install 'ganzoo\[wandb\]'"
    ):
        trackers.make_tracker("wandb")
    with pytest.raises(UsageError, match="--tracker must be one of mlflow, wandb"):
        trackers.make_tracker("neptune")
