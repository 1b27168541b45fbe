"""Every bad input ends in one clear sentence on stderr and a non-zero exit status.

Each row: command-line arguments (``{tmp}``, ``{run}``, ``{crun}`` (a conditional run), ``{mnist}``
are filled in), the
expected exit status, and a fragment of the message. The test also checks that no traceback
is printed and that the command leaves no new file behind.
"""

from __future__ import annotations

import gzip
import json
import math
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from ganzoo import api

CASES = [
    # names
    (["train", "vanila-mlp", "mnist"], 2, "Unknown generator 'vanila-mlp'. Did you mean 'vanilla-mlp'?"),
    (["train", "vanilla-mlp", "mnits"], 2, "Unknown dataset 'mnits'. Did you mean 'mnist'?"),
    (["train", "vanilla-mlp", "mnist", "--loss", "bec"], 2, "Unknown loss 'bec'. Did you mean 'bce'?"),
    (["train", "vanilla-mlp", "mnist", "--recipe", "nope"], 2, "Unknown recipe 'nope'"),
    (["train", "vanilla-mlp"], 2, "train needs ARCH and DATASET"),
    (["data", "fetch", "mnsit"], 2, "Unknown dataset 'mnsit'"),
    (["list", "widgets"], 2, "'widgets' is not one of 'generators'"),
    # option values
    (
        ["train", "vanilla-mlp", "mnist", "--batch-size", "0"],
        2,
        "--batch-size must be a positive whole number, got 0.",
    ),
    (
        ["train", "vanilla-mlp", "mnist", "--iterations", "-5"],
        2,
        "--iterations must be a positive whole number, got -5.",
    ),
    (["train", "vanilla-mlp", "mnist", "--lr-g", "0"], 2, "--lr-g must be a positive number, got 0.0."),
    (["train", "vanilla-mlp", "mnist", "--lr-d", "abc"], 2, "'abc' is not a valid float"),
    (["train", "vanilla-mlp", "mnist", "--iterations", "5", "--epochs", "1"], 2, "not both"),
    (["train", "vanilla-mlp", "mnist", "--label-smoothing", "1.5"], 2, "label_smoothing must be in [0, 1)"),
    (["train", "vanilla-mlp", "mnist", "--set", "hiden=3"], 2, "Did you mean 'hidden'"),
    (["train", "vanilla-mlp", "mnist", "--set", "oops"], 2, "--set takes KEY=VALUE"),
    (["train", "vanilla-mlp", "mnist", "--set", "prior=cauchy"], 2, "prior must be one of"),
    (["train", "vanilla-mlp", "mnist", "--set", "batch_size=-1"], 2, "--batch-size must be a positive"),
    # devices
    (
        ["train", "vanilla-mlp", "mnist", "--device", "tpu"],
        2,
        "--device must be auto, cpu, cuda, cuda:N or mps",
    ),
    # paths and files
    (
        ["train", "vanilla-mlp", "mnist", "--data-dir", "{mnist}", "--out", "{run}"],
        2,
        "already exists and is not empty",
    ),
    (["train", "vanilla-mlp", "mnist", "--data-dir", "{tmp}/truncated"], 1, "is truncated"),
    (["train", "vanilla-mlp", "mnist", "--data-dir", "{tmp}/notidx"], 1, "is not a valid IDX file"),
    (["train", "vanilla-mlp", "mnist", "--data-dir", "{tmp}/empty"], 1, "ganzoo data fetch mnist"),
    (
        ["train", "vanilla-mlp", "mnist", "--data-dir", "{mnist}", "--out", "/proc/ganzoo-run"],
        2,
        "--out /proc/ganzoo-run cannot be created",
    ),
    (["train", "--resume", "{tmp}/nowhere"], 1, "is not a run directory"),
    # a resumed run keeps what it was trained with (docs/guide.md, "Resume")
    (
        ["train", "--resume", "{run}", "--batch-size", "64"],
        2,
        "was trained with --batch-size 128; --resume cannot change it to 64",
    ),
    (
        ["train", "dcgan", "mnist", "--resume", "{run}"],
        2,
        "the generator vanilla-mlp; --resume cannot change it",
    ),
    (
        ["train", "--resume", "{run}", "--loss", "hinge"],
        2,
        "the loss bce; --resume cannot change it to hinge",
    ),
    (
        ["train", "--resume", "{run}", "--set", "generator.hidden=64"],
        2,
        "generator.hidden 256; --resume cannot",
    ),
    (["train", "--resume", "{run}", "--iterations", "1"], 2, "has trained 2 iterations already"),
    (["train", "--resume", "{run}", "--out", "{tmp}/elsewhere"], 2, "--out names a new run's folder"),
    (["train", "--resume", "{tmp}/empty"], 1, "has no config.json"),
    (["generate", "{tmp}/nowhere"], 1, "does not exist"),
    (["generate", "{tmp}/unfinished"], 1, "has no generator.safetensors yet"),
    (["generate", "{tmp}/foreign.safetensors"], 1, "not a ganzoo generator"),
    (["generate", "{tmp}/garbage.safetensors"], 1, "is not a safetensors file"),
    (["generate", "{run}", "-o", "{tmp}/out.jpg"], 2, "give a .png grid, a .safetensors file, or a folder"),
    (["generate", "{run}", "-n", "0"], 2, "must be positive, got 0"),
    # components that cannot work together, and dataset files that are not there
    (
        ["train", "sine-1d", "mnist"],
        2,
        "works on sequence data, but the dataset holds image data of shape 1x28x28",
    ),
    (["train", "upsample-conv", "sine"], 2, "works on image data, but the dataset holds sequence data"),
    (
        ["train", "dcgan", "image-folder", "--data-dir", "{tmp}/pictures", "--set", "dataset.image_size=30"],
        2,
        "needs square images whose side is",
    ),
    (["train", "dcgan", "image-folder"], 2, "image-folder needs --data-dir PATH"),
    (["train", "dcgan", "image-folder", "--data-dir", "{tmp}/empty"], 1, "no PNG or JPEG"),
    (["train", "dcgan", "svhn", "--data-dir", "{tmp}/empty"], 1, "train_32x32.mat"),
    (["train", "dcgan", "cifar10", "--data-dir", "{tmp}/empty"], 1, "data_batch_1"),
    (
        ["train", "dcgan", "mnist", "--set", "dataset.size=3"],
        2,
        "--set dataset.size: no training setting or component",
    ),
    # eval, EMA
    (["eval", "{tmp}/nowhere"], 1, "does not exist"),
    (["eval", "{tmp}/unfinished"], 1, "has no generator.safetensors yet"),
    (["eval", "{run}", "-n", "0"], 2, "must be positive, got 0"),
    (["eval", "{run}", "-n", "1"], 2, "-n must be at least 2 samples"),
    (
        ["eval", "{picrun}"],
        1,
        "ganzoo has no classifier for 'image-folder' and Inception-v3's weights are not on this machine",
        {"TORCH_HOME": "{tmp}/torch"},
    ),
    (
        ["eval", "{picrun}", "--inception-weights", "{tmp}/garbage.safetensors"],
        1,
        "does not hold torchvision's Inception-v3 weights",
    ),
    (["eval", "{picrun}", "--inception-weights", "{tmp}/none.pth"], 1, "none.pth do not exist"),
    (["train", "vanilla-mlp", "mnist", "--ema", "1.5"], 2, "--ema must be a decay between 0 and 1"),
    (
        ["train", "vanilla-mlp", "mnist", "--keep-checkpoints", "0"],
        2,
        "--keep-checkpoints must be a positive whole number",
    ),
    (["train", "vanilla-mlp", "mnist", "--on-nan", "ignore"], 2, "'ignore' is not one of 'stop', 'skip'"),
    (
        ["train", "vanilla-mlp", "mnist", "--eval-every", "0"],
        2,
        "--eval-every must be a positive whole number",
    ),
    (
        ["train", "vanilla-mlp", "image-folder", "--data-dir", "{tmp}/pictures", "--eval-every", "5"],
        1,
        "has no classifier for 'image-folder'",
        {"TORCH_HOME": "{tmp}/torch"},
    ),
    # speed settings
    (
        ["train", "vanilla-mlp", "mnist", "--precision", "fp8"],
        2,
        "'fp8' is not one of 'auto', 'fp32', 'bf16'",
    ),
    (["train", "vanilla-mlp", "mnist", "--set", "compile=maybe"], 2, "--compile must be true or false"),
    (["train", "vanilla-mlp", "mnist", "--set", "memory_format=nhwc"], 2, "memory_format must be one of"),
    (
        ["train", "sine-1d", "sine", "--set", "memory_format=channels_last"],
        2,
        "memory_format=channels_last applies to images",
    ),
    # show, interpolate, completion
    (["show", "{tmp}/nowhere"], 1, "is not a run directory"),
    (["show", "{tmp}/empty"], 1, "has no config.json"),
    (["generate", "{run}", "--interpolate", "--steps", "1"], 2, "--steps must be at least 2"),
    (["generate", "{run}", "--interpolate", "--nice"], 2, "does not go with --nice"),
    (["completion", "powershell"], 2, "'powershell' is not one of 'bash', 'zsh', 'fish'"),
    # sizes are checked against the memory they need before anything is allocated
    (
        ["train", "vanilla-mlp", "mnist", "--data-dir", "{mnist}", "--batch-size", "100000000000"],
        2,
        "--batch-size 100000000000 is more than the 256 samples the dataset holds; give at most 256.",
    ),
    (
        ["train", "vanilla-mlp", "mnist", "--data-dir", "{mnist}", "--set", "samples=100000000000"],
        2,
        "--set samples=100000000000 (the sample grid) needs about",
    ),
    (["generate", "{run}", "-n", "100000000000"], 2, "-n 100000000000 needs about"),
    (
        ["generate", "{run}", "--interpolate", "--steps", "100000000000"],
        2,
        "--interpolate -n 8 --steps 100000000000 needs about",
    ),
    (
        ["generate", "{run}", "--smooth", "-5"],
        2,
        "--smooth must be a whole number of points, 0 (none) or more",
    ),
    # seeds: torch's CPU generator keeps 32 bits of a seed
    (
        ["train", "vanilla-mlp", "mnist", "--seed", "4294967297"],
        2,
        "--seed must be a whole number from 0 to 2^32 - 1 (4294967295), got 4294967297.",
    ),
    (["generate", "{run}", "--seed", "4294967296"], 2, "--seed must be a whole number from 0 to 2^32 - 1"),
    (["eval", "{run}", "--seed", "-1"], 2, "--seed must be a whole number from 0 to 2^32 - 1"),
    # numbers beyond what torch takes, and text that would break the one line
    (
        ["train", "vanilla-mlp", "mnist", "--threads", "2147483648"],
        2,
        "--threads must be a whole number from 1 to 4096, got 2147483648.",
    ),
    (
        ["train", "vanilla-mlp", "mnist", "--batch-size", "1" + "0" * 400],
        2,
        "--batch-size must be a positive whole number below 2^63, got 10000",
    ),
    (
        ["train", "vanilla-mlp", "mnist", "--set", "loss.r1=1" + "0" * 400],
        2,
        "loss.r1 must be a finite number",
    ),
    (
        ["train", "vanilla-mlp", "mnist", "--set", "discriminator.hidden=18446744073709551616"],
        2,
        "discriminator.hidden must be a whole number below 2^63, got 18446744073709551616.",
    ),
    (["train", "vanilla-mlp", "mnist", "--set", "\n"], 2, "--set takes KEY=VALUE, got '\\n'."),
    (["train", "--resume", "{run}", "--force"], 2, "--force lets a new run fill a folder that is not empty"),
    (["generate", "{tmp}/nanrun"], 1, "holds a generator whose weights are NaN or infinite"),
    # class-conditional runs
    (
        ["train", "sine-1d", "sine", "--conditional"],
        2,
        "The dataset 'sine' has no classes, so it cannot train a conditional run; drop --conditional.",
    ),
    (
        ["train", "upsample-conv", "mnist", "--conditional", "--data-dir", "{mnist}"],
        2,
        "The generator 'upsample-conv' does not take class labels, so it cannot train a conditional run",
    ),
    (
        ["train", "vanilla-mlp", "mnist", "--set", "loss.acgan=1"],
        2,
        "which only a conditional run has; add --conditional.",
    ),
    (
        ["train", "vanilla-mlp", "mnist", "--conditional", "--set", "loss.acgan=-1"],
        2,
        "loss.acgan must be a finite number of at least 0, got -1.",
    ),
    (["train", "--resume", "{crun}", "--no-conditional"], 2, "--resume cannot change it to false"),
    (["generate", "{run}", "--class", "7"], 2, "was trained without class labels (not --conditional)"),
    (["generate", "{run}", "--per-class", "2"], 2, "was trained without class labels (not --conditional)"),
    (["generate", "{crun}", "--per-class", "2", "-n", "4"], 2, "--per-class sets how many samples"),
    (["generate", "{crun}", "--per-class", "0"], 2, "must be positive, got 0"),
    (["generate", "{crun}", "--class", "eleven"], 2, "There is no class 'eleven'; the classes are 0, 1, 2"),
    (["generate", "{crun}", "--class", "10"], 2, "There is no class 10: give a name"),
    (["generate", "{crun}", "--class", "3", "--per-class", "2"], 2, "give it or --class, not both"),
    (["eval", "{crun}", "-n", "10"], 2, "-n 10 gives fewer than 2 samples of each of the 10 classes"),
    (
        ["train", "vanilla-mlp", "mnist", "--conditional", "--eval-every", "5", "--set", "eval_n=8"],
        2,
        "--set eval_n=8 gives fewer than 2 samples of each of the 10 classes",
    ),
    # compare
    (["compare", "{run}"], 2, "compare needs at least two runs, RUN RUN...; `ganzoo show RUN` shows one."),
    (["compare", "{run}", "{run}"], 2, "is given twice; compare different runs."),
    (["compare", "{run}", "{crun}", "-o", "{tmp}/g.jpg"], 2, "compare draws a .png grid."),
    (
        ["compare", "{run}", "{picrun}", "-o", "{tmp}/g.png"],
        2,
        "compare -o puts samples of one shape side by side; these runs make 1x28x28, 3x16x16.",
    ),
    (["compare", "{run}", "{tmp}/empty"], 1, "is not a ganzoo run directory"),
    # export
    (
        ["export", "{run}", "-o", "{tmp}/pictures"],
        2,
        "already exists and is not an empty folder; choose a new one.",
    ),
    (
        ["export", "{tmp}/empty", "-o", "{tmp}/hub"],
        2,
        "is not a ganzoo run directory; export takes the folder",
    ),
    (["export", "{tmp}/unfinished", "-o", "{tmp}/hub"], 2, "has not finished training (unfinished)"),
    (["export", "{run}", "--format", "tflite", "-o", "{tmp}/hub"], 2, "'tflite' is not one of 'hub', 'onnx'"),
    (
        ["export", "{run}", "--format", "onnx", "-o", "{tmp}/g.png"],
        2,
        "g.png: --format onnx writes a .onnx file.",
    ),
    (["export", "{run}"], 2, "Missing option '-o' / '--out'"),
    (["report", "{run}", "-o", "{tmp}/report.txt"], 2, "report.txt: report writes an .html file."),
    (["report", "{tmp}/empty", "-o", "{tmp}/report.html"], 1, "is not a ganzoo run directory"),
    # zoo.toml
    (["list", "recipes"], 2, "broken.toml is not valid TOML", {"GANZOO_ZOO": "{tmp}/broken.toml"}),
    (
        ["train", "vanilla-mlp", "mnist"],
        2,
        "line 6: recipe 'x' key 'train.speed' is not a training setting",
        {"GANZOO_ZOO": "{tmp}/unknown-key.toml"},
    ),
]


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("trained") / "run"
    fixture = Path(__file__).parents[1] / "fixtures" / "mnist"
    api.train("vanilla-mlp", "mnist", out=run, data_dir=fixture, iterations=2, seed=0, device="cpu")
    return run


@pytest.fixture(scope="module")
def conditional_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("conditional") / "run"
    fixture = Path(__file__).parents[1] / "fixtures" / "mnist"
    api.train(
        "vanilla-mlp",
        "mnist",
        out=run,
        data_dir=fixture,
        iterations=2,
        seed=0,
        device="cpu",
        conditional=True,
    )
    return run


@pytest.fixture
def bad_files(tmp_path: Path, mnist_dir: Path, trained_run: Path) -> Path:
    (tmp_path / "empty").mkdir()
    for name, damage in (
        ("truncated", lambda b: b[:5000]),
        ("notidx", lambda b: b"\x00\x00\x09\x09" + b[4:]),
    ):
        folder = tmp_path / name
        shutil.copytree(mnist_dir, folder)
        path = folder / "train-images-idx3-ubyte.gz"
        path.write_bytes(gzip.compress(damage(gzip.decompress(path.read_bytes()))))
    from PIL import Image

    (tmp_path / "pictures").mkdir()
    Image.new("RGB", (40, 40), (200, 30, 30)).save(tmp_path / "pictures" / "red.png")
    (tmp_path / "unfinished").mkdir()  # a run's record, without the result and weights of its end
    record = json.loads((trained_run / "config.json").read_text())
    del record["result"]
    (tmp_path / "unfinished" / "config.json").write_text(json.dumps(record))
    save_file({"w": torch.zeros(3)}, str(tmp_path / "foreign.safetensors"))
    shutil.copytree(trained_run, tmp_path / "nanrun")  # a run whose weights turned NaN
    for name in ("generator.safetensors", "generator-ema.safetensors"):
        path = tmp_path / "nanrun" / name
        with safe_open(str(path), "pt") as f:
            meta, tensors = f.metadata(), {k: torch.full_like(f.get_tensor(k), math.nan) for k in f.keys()}  # noqa: SIM118
        save_file(tensors, str(path), metadata=meta)
    (tmp_path / "garbage.safetensors").write_bytes(b"this is not a tensor file")
    (tmp_path / "broken.toml").write_text("[x]\ngenerator = \n")
    (tmp_path / "unknown-key.toml").write_text(
        '[x]\ngenerator = "vanilla-mlp"\ndiscriminator = "vanilla-mlp"\ndataset = "mnist"\n'
        "[x.train]\nspeed = 3\n"
    )
    return tmp_path


@pytest.mark.parametrize("case", CASES, ids=[" ".join(c[0])[:60] for c in CASES])
def test_bad_input_is_one_clear_sentence(
    case: tuple,
    bad_files: Path,
    trained_run: Path,
    conditional_run: Path,
    picture_run: Path,
    mnist_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    one_sentence: Callable[..., str],
) -> None:
    argv, code, fragment, *rest = case
    env = rest[0] if rest else {}
    fill = {
        "tmp": str(bad_files),
        "run": str(trained_run),
        "crun": str(conditional_run),
        "mnist": str(mnist_dir),
        "picrun": str(picture_run),
    }
    argv = [a.format(**fill) for a in argv]
    for key, value in env.items():
        monkeypatch.setenv(key, value.format(**fill))
    monkeypatch.chdir(bad_files)
    one_sentence(argv, code, fragment, bad_files, trained_run, conditional_run, picture_run)


def test_docs_errors_md_lists_every_case(undocumented: Callable[[list[tuple]], list[str]]) -> None:
    missing = undocumented(CASES)
    assert not missing, f"docs/errors.md lacks: {missing}"
