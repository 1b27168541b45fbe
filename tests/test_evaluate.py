"""`ganzoo eval`, `--eval-every` and `--ema` on runs trained for a few steps on real-digit fixtures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from click.testing import CliRunner

from ganzoo import api, evaluate
from ganzoo.classifier import CLASSIFIERS
from ganzoo.cli import cli
from ganzoo.errors import MetricsError
from ganzoo.files import sha256_file
from ganzoo.plugins.mnist import MNIST


@pytest.fixture(scope="module")
def short_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("eval") / "run"
    api.train(
        "vanilla-mlp", "mnist", recipe="seed-002-vanilla-mlp-mnist", out=run,
        data_dir=Path(__file__).parent / "fixtures" / "mnist", iterations=40,
        seed=3, sample_every=20, device="cpu", sets=["log_every=10"],
    )  # fmt: skip
    return run


def run_eval(*args: str) -> Any:
    result = CliRunner().invoke(cli, ["eval", *args])
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    return result


# -- EMA ------------------------------------------------------------------------------------------


# -- ganzoo eval ------------------------------------------------------------------------------------


def test_eval_reports_figures_with_their_protocol_and_repeats_them(short_run: Path) -> None:
    first = json.loads(run_eval(str(short_run), "-n", "300", "--json").stdout)
    m = first["metrics"]
    assert {
        "fd",
        "kid",
        "kid_std",
        "precision",
        "recall",
        "classifier_score",
        "classes_covered",
        "class_kl",
    } <= set(m)
    assert m["fd"] > 0 and 1 <= m["classifier_score"] <= 10 and 0 <= m["classes_covered"] <= 10
    assert 0 <= m["precision"] <= 1 and 0 <= m["recall"] <= 1 and len(m["class_shares"]) == 10
    p = first["protocol"]
    assert p["samples"] == 300 and p["reference"] == "mnist test split" and p["reference_samples"] == 64
    assert p["features_sha256"] == CLASSIFIERS["mnist"].sha256
    assert first["generator"] == "final weights"
    again = json.loads(run_eval(str(short_run), "-n", "300", "--json").stdout)
    assert again["metrics"] == m  # same seed, same samples, same figures (the reference now cached)
    other = json.loads(run_eval(str(short_run), "-n", "300", "--seed", "1", "--json").stdout)
    assert other["metrics"]["fd"] != m["fd"]
    table = run_eval(str(short_run), "-n", "100").stdout
    assert "Fréchet distance" in table and "classes covered" in table and "features_sha256" in table


def test_the_figures_move_the_right_way_between_real_digits_and_noise(mnist_dir: Path) -> None:
    ds = MNIST(data_dir=mnist_dir)
    ev = evaluate.Evaluator(ds, "mnist", torch.device("cpu"), n=200, batch_size=64)
    train_digits = ds.load("train")

    def real(count: int, gen: torch.Generator) -> torch.Tensor:
        return train_digits[torch.randint(len(train_digits), (count,), generator=gen)]

    def noise(count: int, gen: torch.Generator) -> torch.Tensor:
        return torch.rand(count, 1, 28, 28, generator=gen)

    def one_digit(count: int, gen: torch.Generator) -> torch.Tensor:
        return train_digits[:1].expand(count, -1, -1, -1)

    good, bad, mono = ev.evaluate(real), ev.evaluate(noise), ev.evaluate(one_digit)
    assert good["fd"] < mono["fd"] < bad["fd"]
    assert good["classes_covered"] >= 9 and mono["classes_covered"] == 1
    assert good["class_kl"] < 0.2 < mono["class_kl"]
    assert good["classifier_score"] > 5 > mono["classifier_score"]
    assert good["precision"] > 0.5 and good["recall"] > 0.5 and mono["recall"] < 0.1


def test_eval_streams_in_batches_and_keeps_a_bounded_sample(
    mnist_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(evaluate, "KEEP", 150)
    ev = evaluate.Evaluator(MNIST(data_dir=mnist_dir), "mnist", torch.device("cpu"), n=1000, batch_size=70)
    sizes: list[int] = []

    def sample(count: int, gen: torch.Generator) -> torch.Tensor:
        sizes.append(count)
        return torch.rand(count, 1, 28, 28, generator=gen)

    figures = ev.evaluate(sample)
    assert max(sizes) == 70 and sum(sizes) == 1000
    assert ev.protocol()["kid_pr_samples"] == 150 and figures["fd"] > 0


def test_a_sine_run_is_measured_against_real_curves(tmp_path: Path) -> None:
    run = tmp_path / "sine"
    api.train(
        "sine-1d",
        "sine",
        out=run,
        iterations=2,
        seed=0,
        device="cpu",
        sets=["dataset.n=128", "batch_size=32"],
    )
    result = api.evaluate(run, n=128)
    m = result["metrics"]
    assert {"mmd", "sine_residual", "sine_share", "sine_residual_real"} <= set(m)
    assert (
        m["sine_residual_real"] < 1e-3 < m["sine_residual"]
    )  # real curves are sines; an untrained G's are not
    assert m["mmd"] > 0 and result["protocol"]["reference"] == "sine test split"


# -- other image data: Inception-v3, only from a file already on the machine -------------------------


def test_images_without_a_classifier_need_inception_weights(
    picture_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    with pytest.raises(MetricsError, match="has no classifier for 'image-folder' and Inception-v3's weights"):
        api.evaluate(picture_run, n=8)


def test_inception_weights_from_a_file_give_inception_figures(picture_run: Path, tmp_path: Path) -> None:
    from torchvision.models import inception_v3

    torch.manual_seed(0)
    weights = tmp_path / "inception.pth"
    torch.save(inception_v3(weights=None, aux_logits=True, init_weights=True).state_dict(), weights)
    result = api.evaluate(picture_run, n=6, batch_size=3, inception_weights=weights)
    assert {"fd", "kid", "inception_score", "precision", "recall"} <= set(result["metrics"])
    assert "classes_covered" not in result["metrics"]
    assert result["protocol"]["features_sha256"] == sha256_file(weights)
    assert result["protocol"]["reference"] == "image-folder train split"


def test_a_corrupt_classifier_file_is_refused_with_one_sentence(
    short_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ganzoo import classifier

    damaged = tmp_path / "classifier.safetensors"
    data = bytearray(classifier.asset_path(CLASSIFIERS["mnist"]).read_bytes())
    data[-10] ^= 0xFF
    damaged.write_bytes(bytes(data))
    monkeypatch.setattr(classifier, "asset_path", lambda info: damaged)
    result = CliRunner().invoke(cli, ["eval", str(short_run), "-n", "10"])
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert "classifier" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_inception_weights_may_be_a_safetensors_copy(tmp_path: Path) -> None:
    from safetensors.torch import save_file
    from torchvision.models import inception_v3

    torch.manual_seed(0)
    state = inception_v3(weights=None, aux_logits=True, init_weights=True).state_dict()
    path = tmp_path / "inception.safetensors"
    save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    extractor = evaluate.inception_extractor(path, torch.device("cpu"))
    features, logits = extractor.forward(torch.rand(1, 1, 28, 28))
    assert features.shape == (1, 2048) and logits.shape == (1, 1000)
    assert extractor.sha256 == sha256_file(path)


def test_curves_beyond_the_datas_range_are_measured_as_they_are() -> None:
    """A generator with an unbounded output (sine-1d's output_activation=linear) may overshoot the
    data's ±1: eval measures its curves as drawn, not clipped to the data's range (which would turn
    an overshooting sine into a flattened one, and a 1.3 amplitude into a 1.0 one)."""
    from ganzoo.plugins.sine import Sine

    data = Sine(n=400, seed=5)
    curves = data.load("train")

    class Loud(torch.nn.Module):
        """Hands out real curves, 1.3 times as loud: outside tanh's range, as a linear output can."""

        def __init__(self) -> None:
            super().__init__()
            self.unused = torch.nn.Parameter(torch.zeros(1))  # eval finds the device by a parameter

        @staticmethod
        def output_range() -> tuple[float, float]:
            return (-1.0, 1.0)

        def forward(self, z: torch.Tensor) -> torch.Tensor:
            return 1.3 * curves[: len(z)]

    ev = evaluate.Evaluator(data, "sine", torch.device("cpu"), 400, batch_size=400)
    figures = ev.evaluate_generator(Loud(), "uniform01", 10)
    assert figures["sine_amplitude"] == pytest.approx(1.3, abs=0.01)
    assert figures["sine_residual"] < 1e-3  # a clean sine, not a clipped one
    assert figures["sine_share"] == 0.0  # of the wrong amplitude: 30% off the data's
