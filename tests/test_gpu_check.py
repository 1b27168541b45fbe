"""benchmarks/gpu_check.py: every check it makes on a GPU machine fails on what it must catch.

The GPU machine is lent for minutes; a check that cannot fail would waste them. Each subcommand is
run here on a finished CPU run (the session's ``run`` fixture) and on a copy of it broken the way
the check must notice. tests/e2e/test_gpu_check.py runs the whole script dry.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import load_file, save_file

ROOT = Path(__file__).resolve().parents[1]


def check(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "gpu_check.py"), *args],
        capture_output=True, text=True, timeout=300, cwd=cwd,
    )  # fmt: skip


def passes(*args: str) -> str:
    done = check(*args)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


def fails(*args: str) -> str:
    done = check(*args)
    assert done.returncode != 0, done.stdout
    assert "Traceback" not in done.stderr, done.stderr[-2000:]  # the reason, as one line
    return done.stderr.strip().splitlines()[-1]


def _copy(run: Path, to: Path) -> Path:
    shutil.copytree(run, to)
    return to


def _result(path: Path, **changes: Any) -> Path:
    r = {"steps": 10, "seconds": 1.0, "last": {"g_loss": 0.7, "d_loss": 0.6}, **changes}
    path.write_text(json.dumps(r))
    return path


def test_finite_fails_on_a_nan_figure(tmp_path: Path) -> None:
    assert "all finite" in passes("finite", str(_result(tmp_path / "ok.json")))
    bad = _result(tmp_path / "nan.json", last={"g_loss": math.nan, "d_loss": 0.6})
    assert "not finite at the end: ['g_loss']" in fails("finite", str(bad))


def test_same_weights_fails_on_a_resume_or_a_control_that_differs(run: Any, tmp_path: Path) -> None:
    straight = Path(run.run_dir)
    same = _copy(straight, tmp_path / "same")
    assert "bit-identical" in passes("same-weights", str(straight), str(same), str(same))
    moved = _copy(straight, tmp_path / "moved")
    weights = load_file(str(moved / "generator.safetensors"))
    key = next(k for k, v in weights.items() if v.is_floating_point())
    weights[key] = weights[key] + 1e-6
    save_file(weights, str(moved / "generator.safetensors"))
    why = fails("same-weights", str(straight), str(moved))
    assert "the resumed run is not the straight one" in why and "resumed vs straight 1e-06" in why
    why = fails("same-weights", str(straight), str(same), str(moved))
    assert "two straight runs with one seed differ" in why


def test_recipe_fails_without_r1_or_the_ema(tmp_path: Path, mnist_dir: Path) -> None:
    from ganzoo import api

    out = tmp_path / "recipe"
    api.train("dcgan", "mnist", out=out, data_dir=mnist_dir, iterations=8, seed=0, device="cpu",
              batch_size=16, sets=["log_every=4"])  # fmt: skip
    assert "recipe dcgan-mnist" in passes("recipe", str(out))
    (out / "generator-ema.safetensors").unlink()
    assert "no EMA generator was saved" in fails("recipe", str(out))
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    (out / "metrics.jsonl").write_text("".join(json.dumps({**r, "r1": 0.0}) + "\n" for r in rows))
    assert "R1 never ran" in fails("recipe", str(out))


def test_moved_fails_without_the_note_or_when_refused(run: Any, tmp_path: Path) -> None:
    moved = _copy(Path(run.run_dir), tmp_path / "moved")
    note = tmp_path / "note.txt"
    note.write_text("trained 22 iterations\n")
    assert "no device change" in passes("moved", str(moved), str(note))
    config = json.loads((moved / "config.json").read_text())
    (moved / "config.json").write_text(json.dumps({**config, "device": "cuda:0"}))
    assert "no note about the re-seeded streams" in fails("moved", str(moved), str(note))
    note.write_text("error: checkpoint/state.safetensors is damaged or does not fit this run\n")
    assert "the resume was refused" in fails("moved", str(moved), str(note))


def test_eval_json_fails_on_a_missing_or_impossible_figure(tmp_path: Path) -> None:
    good = {"protocol": {"samples": 100}, "metrics": {"fd": 12.0, "precision": 0.7, "recall": 0.6,
                                                      "classes_covered": 10}}  # fmt: skip
    path = tmp_path / "eval.json"
    path.write_text(json.dumps(good))
    assert "FD 12.0 on 100 samples, 10 classes" in passes("eval-json", str(path))
    for broken, why in [({"fd": float("nan")}, "fd is nan"), ({"fd": 0.0}, "cannot be 0"),
                        ({"recall": None}, "recall is None")]:  # fmt: skip
        path.write_text(json.dumps({**good, "metrics": {**good["metrics"], **broken}}))
        assert why in fails("eval-json", str(path))


def test_precision_world_and_cost_fail_on_a_mismatch(run: Any, tmp_path: Path) -> None:
    run_dir = str(run.run_dir)
    recorded = json.loads((Path(run_dir) / "config.json").read_text())["run"]["train"]["precision"]
    assert passes("precision", run_dir, recorded) == f"the run trained in {recorded}"
    assert "not fp16" in fails("precision", run_dir, "fp16")
    assert passes("world", run_dir, "1") == "1 processes recorded"
    assert "world_size 1, not 2" in fails("world", run_dir, "2")
    on, off = _result(tmp_path / "on.json", seconds=2.0), _result(tmp_path / "off.json")
    assert "(2.00x" in passes("cost", str(on), str(off))
    nan = _result(tmp_path / "nan.json", last={"g_loss": math.inf})
    assert "not finite" in fails("cost", str(nan), str(off))


def test_device_and_missing_device_say_the_truth_about_this_machine(tmp_path: Path, mnist_dir: Path) -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    assert "not CUDA" in fails("device")
    done = check("missing-device", "0", "mnist", "--data-dir", str(mnist_dir), cwd=tmp_path)
    assert done.returncode == 0, done.stderr  # --device cuda:0 here: one sentence, nothing written
    assert "no CUDA device" in done.stdout


def test_syncs_counts_a_host_read_planted_in_the_step(
    tmp_path: Path, mnist_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On the CPU the syncs check counts the host reads that would be syncs on CUDA: none in the
    recipe's step; a planted ``.item()`` in the loss is seen."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    monkeypatch.chdir(tmp_path)
    import gpu_check

    from ganzoo.plugins.bce import BCE

    assert "syncs per step: [0, 0" in gpu_check.syncs("cpu", "mnist", "--data-dir", str(mnist_dir))
    g = BCE.g

    def reading(self: BCE, logits: torch.Tensor) -> torch.Tensor:
        logits.mean().item()  # a host read in every generator step
        return g(self, logits)

    monkeypatch.setattr(BCE, "g", reading)
    with pytest.raises(AssertionError, match=r"syncs per step \(after the first\): \[1, 1"):
        gpu_check.syncs("cpu", "mnist", "--data-dir", str(mnist_dir))


def test_installed_fails_when_ganzoo_comes_from_elsewhere_or_has_no_plugins(tmp_path: Path) -> None:
    """The check the GPU machine aborts on: here ganzoo imports from the test's environment, not the
    folder named, so it fails saying where ganzoo came from; a hand-made dist-info without the
    built-in entry points is refused by name."""
    why = fails("installed", str(tmp_path))
    assert "ganzoo imports from" in why and f"not from {tmp_path}" in why
    site = tmp_path / "site"
    passes("dist-info", str(ROOT), str(site))
    entry_points = next(site.glob("ganzoo-*.dist-info")) / "entry_points.txt"
    text = entry_points.read_text()
    assert "architectures = ganzoo.plugins.architectures" in text and "[console_scripts]" in text
    shutil.copytree(ROOT / "ganzoo", site / "ganzoo")
    shutil.copytree(ROOT / "plugins", site / "ganzoo" / "plugins")
    shutil.copy(ROOT / "zoo.toml", site / "ganzoo" / "zoo.toml")
    others = packages_without_ganzoo(tmp_path / "others")

    def installed_check() -> subprocess.CompletedProcess[str]:
        # -S: no site-packages of this environment (where ganzoo is installed), only SITE and the rest
        code = f"import sys; sys.path[:0] = [{str(site)!r}, {str(others)!r}]; import runpy; "
        code += f"sys.argv = ['gpu_check.py', 'installed', {str(site)!r}]; "
        code += f"runpy.run_path({str(ROOT / 'benchmarks' / 'gpu_check.py')!r}, run_name='__main__')"
        return subprocess.run(
            [sys.executable, "-S", "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path
        )

    done = installed_check()
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"installed by gpu_check into {site}" in done.stdout
    entry_points.write_text(text.replace("architectures = ganzoo.plugins.architectures\n", ""))
    done = installed_check()
    assert done.returncode != 0 and "the built-in plugins are not registered" in done.stderr


def packages_without_ganzoo(folder: Path) -> Path:
    """A folder of links to everything this environment installed but ganzoo: its torch, numpy...,
    without ganzoo's editable finder or its dist-info (a machine that never installed ganzoo)."""
    import sysconfig

    folder.mkdir(parents=True)
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if not entry.name.lower().startswith(("ganzoo", "__editable__")):
            (folder / entry.name).symlink_to(entry)
    return folder
