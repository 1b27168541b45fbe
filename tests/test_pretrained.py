"""Pretrained generators by name: listed without torch, used wherever a run is, checked against their
manifest, shipped by plugins through a hook; fine-tuning from one (--init) and FreezeD."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch
from click.testing import CliRunner
from safetensors.torch import load_file

from ganzoo import api, hookimpl, rundir
from ganzoo.cli import cli
from ganzoo.errors import RunDirError, UnknownComponentError, UsageError
from ganzoo.export import export_hub
from ganzoo.pretrained import MANIFEST, resolve
from ganzoo.testing import registered

NAME = "tiny-digits"


def ship(run: Path, folder: Path) -> Path:
    """A pretrained folder as scripts/ship_pretrained.py makes one, without its evaluations (the
    test data hold 64 test digits): the hub export, D, and a manifest of every file's sha256."""
    export_hub(run, folder)
    shutil.copyfile(run / rundir.DISCRIMINATOR, folder / rundir.DISCRIMINATOR)
    files = {
        f.name: {"sha256": hashlib.sha256(f.read_bytes()).hexdigest(), "bytes": f.stat().st_size}
        for f in folder.iterdir()
    }
    manifest = {"name": NAME, "recipe": "vanilla-mlp-mnist", "summary": "20 steps on 256 digits",
                "precision": "fp32", "figures": {"fd": 123.4}, "discriminator": True,
                "files": files}  # fmt: skip
    (folder / MANIFEST).write_text(json.dumps(manifest))
    return folder


class Shipper:
    """A plugin that ships one pretrained generator (a folder; a package would name "pkg:folder")."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @hookimpl
    def register_pretrained(self, register: Any) -> None:
        register(NAME, self.folder, "A tiny generator for tests.")


@pytest.fixture
def shipped(run: Any, tmp_path: Path) -> Any:
    folder = ship(Path(run.run_dir), tmp_path / "shipped" / NAME)
    with registered(Shipper(folder), name="tiny", dist="ganzoo-tiny-weights", version="1.0"):
        yield folder


def test_a_shipped_generator_is_listed_and_used_by_name(
    shipped: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    listed = json.loads(CliRunner().invoke(cli, ["list", "pretrained", "--json"]).stdout)
    mine = next(r for r in listed if r["name"] == NAME)
    assert mine["dist"] == "ganzoo-tiny-weights" and mine["figures"] == {"fd": 123.4} and mine["bytes"] > 0
    monkeypatch.chdir(tmp_path)
    g = api.load_generator(NAME)
    assert g.sample(4, seed=0).shape == (4, 1, 28, 28)
    out = api.generate(NAME, n=4, seed=0, out=tmp_path / "grid.png")
    assert out.path.is_file()
    info = api.show(NAME)
    assert info.status == "finished" and info.steps == 20 and info.resume is None and not info.damage
    done = CliRunner().invoke(cli, ["generate", NAME, "-n", "4", "-o", str(tmp_path / "cli.png")])
    assert done.exit_code == 0 and (tmp_path / "cli.png").is_file(), done.stdout


def test_an_existing_path_wins_over_a_name_and_an_unknown_name_says_what_is_close(
    shipped: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert resolve(NAME) == shipped
    (tmp_path / NAME).mkdir()  # a folder of that name where the user stands: it is what they mean
    assert resolve(NAME) == Path(NAME)
    with pytest.raises(
        UnknownComponentError, match=r"tiny-digit is neither a run folder nor .* 'tiny-digits'"
    ):
        resolve("tiny-digit")
    assert resolve("runs/not-there") == Path("runs/not-there")  # a path: the command says it is missing


def test_a_changed_file_is_refused_in_one_sentence(shipped: Path) -> None:
    with open(shipped / rundir.HUB_MODEL, "r+b") as f:
        f.seek(-8, 2)
        f.write(b"\x00" * 8)
    with pytest.raises(RunDirError, match=r"has a changed model.safetensors: its sha256 is .*reinstall"):
        api.load_generator(NAME)
    (shipped / rundir.DISCRIMINATOR).unlink()
    with pytest.raises(RunDirError, match=r"is missing discriminator\.safetensors"):
        resolve(NAME)


def test_listing_pretrained_imports_no_torch() -> None:
    code = "import sys; from ganzoo.pretrained import available; available(); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_fine_tuning_starts_from_the_shipped_weights_and_records_it(
    shipped: Path, tmp_path: Path, mnist_dir: Path, train_short: Any
) -> None:
    """--init NAME: G starts as the shipped G, D as its D (fresh optimisers), and the record says so."""
    run = train_short(tmp_path / "tuned", iterations=1, init=NAME, lr_g=1e-12, lr_d=1e-12, ema=None)
    assert run.record.init == {
        "from": NAME,
        "path": str(shipped),
        "generator": rundir.HUB_MODEL,
        "discriminator": rundir.DISCRIMINATOR,
    }
    for role, theirs in (("generator", rundir.HUB_MODEL), ("discriminator", rundir.DISCRIMINATOR)):
        a = load_file(str(shipped / theirs))
        b = load_file(str(tmp_path / "tuned" / f"{role}.safetensors"))
        assert all(torch.allclose(a[k].float(), b[k], atol=1e-6) for k in a), role
    assert api.show(tmp_path / "tuned").init["from"] == NAME
    with pytest.raises(UsageError, match=r"--init tiny-digits: the generator's net.0.weight is 256x100 there "
                       r"but 32x100 here"):  # fmt: skip
        train_short(tmp_path / "other", iterations=1, init=NAME, sets=["generator.hidden=32"])
    with pytest.raises(UsageError, match="give one or the other"):
        api.train(resume=tmp_path / "tuned", init=NAME)


def test_freeze_d_keeps_ds_first_layers(tmp_path: Path, train_short: Any) -> None:
    """FreezeD: with freeze_d=1 vanilla-mlp's D keeps its first Linear as it started; the last learns."""
    torch.manual_seed(0)
    run = train_short(tmp_path / "frozen", iterations=5, sets=["freeze_d=1"], ema=None, checkpoint_every=1)
    start = train_short(tmp_path / "start", iterations=1, sets=["freeze_d=1", "lr_d=1e-30"], ema=None)
    a = load_file(str(tmp_path / "frozen" / rundir.DISCRIMINATOR))
    b = load_file(str(tmp_path / "start" / rundir.DISCRIMINATOR))
    assert torch.equal(a["net.1.weight"], b["net.1.weight"])  # never trained: as built from the seed
    assert not torch.equal(a["net.3.weight"], b["net.3.weight"])
    assert run.record.config.train.freeze_d == 1 and start.steps == 1
    with pytest.raises(UsageError, match=r"freeze_d=3, but the discriminator has 2 layers with weights"):
        train_short(tmp_path / "too-many", iterations=1, sets=["freeze_d=3"])


def test_the_list_keeps_each_figure_whole_in_80_columns() -> None:
    """`ganzoo list pretrained` in a terminal of 80 columns: one figure a line, never a name cut from
    its value, each to three significant figures with its trailing zero (FD 39.0, not FD 39), and no
    recipe line that only repeats the name (every shipped one is named after it)."""
    done = CliRunner().invoke(cli, ["list", "pretrained"], env={"COLUMNS": "80"})
    assert done.exit_code == 0, done.stdout
    text = done.stdout
    assert max(len(line) for line in text.splitlines()) <= 80
    for whole in (
        "FD 39.0",
        "FD 51.2",
        "KID 0.0489",
        "cond acc 0.999",
        "sines 0.879",
        "freq. KS 0.0977",
    ):
        assert whole in text, text
    assert "classes 10.0" not in text  # a count stays a whole number
    assert "recipe dcgan-mnist" not in text
