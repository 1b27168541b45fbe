"""The Python half of gpu_check.sh: each subcommand checks one thing, prints one line, and exits 0, or
fails (an AssertionError's message is its last line). tests/test_gpu_check.py shows each of them
failing on what it must catch.

python benchmarks/gpu_check.py dist-info REPO SITE | installed SITE
python benchmarks/gpu_check.py device | missing-device NGPU DATA... | finite RUN.json | recipe RUN
python benchmarks/gpu_check.py same-weights STRAIGHT RESUMED [CONTROL] | moved RUN NOTE.txt
python benchmarks/gpu_check.py eval-json EVAL.json | syncs DEVICE DATA... | cost ON.json OFF.json
python benchmarks/gpu_check.py precision RUN WANT | world RUN N | images DIR | streamed DIR
python benchmarks/gpu_check.py img-per-s BENCH.json
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

#: The built-in plugins' entry points: without them every training check is "Unknown 'dcgan'".
BUILT_IN = {"architectures", "datasets", "losses"}


def dist_info(repo: str, site: str) -> str:
    """The dist-info pip would write for the checkout (name, version, requirements, entry points),
    for an environment without setuptools, where pip cannot build it: importlib.metadata needs no more."""
    root = Path(repo)
    text = (root / "pyproject.toml").read_text()
    version = re.search(r'__version__\s*=\s*"([^"]+)"', (root / "ganzoo" / "version.py").read_text())
    assert version, "ganzoo/version.py holds no __version__"
    deps = re.search(r"^dependencies = \[(.*?)^\]", text, re.S | re.M)
    requires = re.findall(r'^\s*"([^"]+)"', deps.group(1), re.M) if deps else []
    groups = re.findall(r"^\[project\.entry-points\.([\w.-]+)\]\n((?:[^\[\n].*\n?)*)", text, re.M)
    scripts = re.search(r"^\[project\.scripts\]\n((?:[^\[\n].*\n?)*)", text, re.M)
    lines = []
    for group, body in [*groups, *([("console_scripts", scripts.group(1))] if scripts else [])]:
        lines.append(f"[{group}]")
        for name, target in re.findall(r'^([\w.-]+)\s*=\s*"([^"]+)"', body, re.M):
            lines.append(f"{name} = {target}")
        lines.append("")
    out = Path(site) / f"ganzoo-{version.group(1)}.dist-info"
    out.mkdir(parents=True, exist_ok=True)
    meta = ["Metadata-Version: 2.1", "Name: ganzoo", f"Version: {version.group(1)}"]
    meta += [f"Requires-Dist: {r}" for r in requires]
    (out / "METADATA").write_text("\n".join(meta) + "\n")
    (out / "entry_points.txt").write_text("\n".join(lines))
    (out / "INSTALLER").write_text("gpu_check\n")
    return f"wrote {out} by hand ({len(lines)} entry-point lines)"


def _requirement(spec: str) -> Any:
    try:
        from packaging.requirements import Requirement
    except ImportError:  # pip carries its own copy
        from pip._vendor.packaging.requirements import Requirement  # type: ignore[no-redef]
    return Requirement(spec)


def installed(site: str) -> str:
    """ganzoo imports from SITE (not from a checkout on the path), its built-in plugins are registered,
    and the machine's torch satisfies the project's pin (or this says exactly why not)."""
    import importlib.metadata as md
    import platform

    import torch

    import ganzoo

    where = Path(ganzoo.__file__).resolve()
    assert Path(site).resolve() in where.parents, f"ganzoo imports from {where.parent}, not from {site}"
    names = {e.name for e in md.entry_points(group="ganzoo")}
    assert names >= BUILT_IN, (
        f"the built-in plugins are not registered: the 'ganzoo' entry points are {sorted(names) or 'none'}"
    )
    from ganzoo.manager import get_manager

    assert "dcgan" in get_manager().registry.names("generator"), "the built-ins registered no dcgan"
    torch_version = torch.__version__.split("+")[0]
    pins = [r for r in (md.requires("ganzoo") or []) if _requirement(r).name == "torch"]
    for pin in pins:
        spec = _requirement(pin).specifier
        assert spec.contains(torch_version, prereleases=True), (
            f"this machine's torch {torch.__version__} is outside the project's pin torch{spec}: widen "
            "the pin in pyproject.toml if ganzoo works with it (this check is how to find out)"
        )
    how = (Path(site) / f"ganzoo-{ganzoo.__version__}.dist-info" / "INSTALLER").read_text().strip()
    return (
        f"ganzoo {ganzoo.__version__} installed by {how} into {site}; Python {platform.python_version()}, "
        f"torch {torch.__version__} (pin: {', '.join(pins) or 'none'}); entry points {sorted(names)}"
    )


def device() -> str:
    from ganzoo.devices import resolve_device

    d = resolve_device("auto")
    assert d.type == "cuda", f"--device auto picked {d}, not CUDA"
    return f"--device auto picked {d}"


def missing_device(ngpu: str, *data: str) -> str:
    """--device cuda:N past the last GPU: a non-zero exit, one sentence, no traceback, nothing written."""
    out = Path("missing-device-run")
    done = subprocess.run(
        [sys.executable, "-m", "ganzoo", "train", "dcgan", *data, "--device", f"cuda:{ngpu}",
         "--iterations", "1", "--out", str(out)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    err = done.stderr.strip()
    assert done.returncode != 0, f"--device cuda:{ngpu} trained (exit 0)"
    assert "Traceback" not in err, f"a traceback: {err[-300:]}"
    assert len(err.splitlines()) == 1 and "cuda" in err.lower(), f"not one sentence about CUDA: {err[-300:]}"
    assert not (out / "checkpoint").exists(), "a checkpoint was written"
    return err


def finite(result: str) -> str:
    r = json.loads(Path(result).read_text())
    bad = [k for k, v in r["last"].items() if not math.isfinite(v)]
    assert not bad, f"not finite at the end: {bad}"
    return f"{r['steps']} steps in {r['seconds']:.1f} s, last g_loss {r['last']['g_loss']:.3f}, all finite"


def _log(run: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines() if line.strip()]


def recipe(run_dir: str) -> str:
    """The dcgan default recipe ran as users run it: its R1 penalty (double backward) and its EMA."""
    run = Path(run_dir)
    config = json.loads((run / "config.json").read_text())
    train = config["run"]["train"]
    r1 = [row["r1"] for row in _log(run) if "r1" in row]
    if config["run"]["dataset"] == "mnist":  # on generated images, whatever that pair's recipe is
        assert config["run"]["recipe"] == "dcgan-mnist", f"trained the recipe {config['run']['recipe']}"
        assert r1 and max(r1) > 0, f"R1 never ran: {r1}"
        assert (run / "generator-ema.safetensors").is_file(), "no EMA generator was saved"
    assert all(math.isfinite(v) for v in r1), f"R1 is not finite: {r1}"
    return (
        f"recipe {config['run']['recipe']} on {config['device']} in {train['precision']}, "
        f"R1 logged {len(r1)} times (last {r1[-1] if r1 else 0:.3g}), EMA {train['ema']}"
    )


def _generator(run: str) -> dict[str, Any]:
    from safetensors.torch import load_file

    return load_file(str(Path(run) / "generator.safetensors"))


def _difference(a: dict[str, Any], b: dict[str, Any]) -> float:
    return max((a[k].float() - b[k].float()).abs().max().item() for k in a)


def same_weights(straight: str, resumed: str, control: str = "") -> str:
    """The resumed run's G equals the straight run's bit for bit. With a CONTROL (a second straight
    run with the same seed) both differences are printed: a control that differs means the run is
    not repeatable at all on this machine, before any resume."""
    ws, wr = _generator(straight), _generator(resumed)
    resume_diff = _difference(ws, wr)
    line = f"max |difference| of G's weights: resumed vs straight {resume_diff:.3g}"
    if control:
        control_diff = _difference(ws, _generator(control))
        line += f", straight vs straight {control_diff:.3g}"
        assert control_diff == 0, f"{line}: two straight runs with one seed differ (not repeatable)"
    assert resume_diff == 0, f"{line}: the resumed run is not the straight one"
    return line + ", bit-identical"


def moved(run_dir: str, note_file: str) -> str:
    """A run resumed on the CPU ran to its end; when it was trained on CUDA, the user was told the
    random streams were re-seeded."""
    run = Path(run_dir)
    config = json.loads((run / "config.json").read_text())
    note = " ".join(Path(note_file).read_text().split())
    assert "damaged" not in note, f"the resume was refused: {note[-300:]}"
    assert config["result"]["steps"] == config["iterations"], "the resumed run did not reach its end"
    if config["device"].startswith("cuda"):
        assert "random streams were saved on cuda" in note, (
            f"no note about the re-seeded streams: {note[-300:]}"
        )
        return f"resumed on the CPU from {config['device']}: {note[:200]}"
    return f"resumed from {config['device']} on the CPU (no device change to note)"


def eval_json(path: str) -> str:
    r = json.loads(Path(path).read_text())
    m = r["metrics"]
    for key in ("fd", "precision", "recall"):
        assert isinstance(m.get(key), (int, float)) and math.isfinite(m[key]), f"{key} is {m.get(key)!r}"
    assert m["fd"] > 0, f"FD {m['fd']} against real images cannot be 0"
    assert m.get("classes_covered", 0) >= 1, f"no class covered: {m.get('classes_covered')}"
    return f"FD {m['fd']:.1f} on {r['protocol']['samples']} samples, {m['classes_covered']} classes"


def syncs(device_name: str, *data: str) -> str:
    """A few iterations of the dcgan recipe with every host-device synchronisation inside a training
    step counted: CUDA's sync debug mode on the GPU (torch's own operations included); on the CPU, the
    tensor reads by the host that would be syncs there (tests/training/test_syncs.py's counter)."""
    import tempfile
    import warnings

    import torch

    from ganzoo import api
    from ganzoo.training.step import Iteration

    per_step: list[int] = []
    step = Iteration.__call__

    def counted(self: Iteration) -> None:
        if device_name.startswith("cuda"):
            with warnings.catch_warnings(record=True) as seen:
                warnings.simplefilter("always")
                torch.cuda.set_sync_debug_mode("warn")
                try:
                    step(self)
                finally:
                    torch.cuda.set_sync_debug_mode("default")
            per_step.append(sum("synchroniz" in str(w.message) for w in seen))
        else:
            sys.path.insert(0, str(Path(__file__).parents[1] / "tests" / "training"))
            from test_syncs import counting_host_reads

            reads: list[str] = []
            with counting_host_reads(reads):
                step(self)
            per_step.append(len(reads))

    Iteration.__call__ = counted  # type: ignore[method-assign]
    kwargs: dict[str, Any] = {}
    args = list(data)
    if "--data-dir" in args:
        kwargs["data_dir"] = args[args.index("--data-dir") + 1]
    dataset = args[0]
    sets = ["log_every=5"] + [a for i, a in enumerate(args) if i and args[i - 1] == "--set"]
    with tempfile.TemporaryDirectory() as tmp:
        api.train("dcgan", dataset, out=Path(tmp) / "run", iterations=10, seed=0, device=device_name,
                  sets=sets, **kwargs)  # fmt: skip
    assert per_step and not any(per_step[1:]), f"host-device syncs per step (after the first): {per_step}"
    return f"{len(per_step)} steps of the dcgan recipe, syncs per step: {per_step}"


def cost(on: str, off: str) -> str:
    a, b = (json.loads(Path(p).read_text()) for p in (on, off))
    for r in (a, b):
        assert all(math.isfinite(v) for v in r["last"].values()), f"not finite: {r['last']}"
    ratio = (a["seconds"] / a["steps"]) / (b["seconds"] / b["steps"])
    return (
        f"deterministic kernels: {a['seconds'] / a['steps'] * 1000:.1f} ms/it against "
        f"{b['seconds'] / b['steps'] * 1000:.1f} without ({ratio:.2f}x, {a['steps']} its, start-up included)"
    )


def world(run_dir: str, n: str) -> str:
    config = json.loads((Path(run_dir) / "config.json").read_text())
    assert config["world_size"] == int(n), f"the run recorded world_size {config['world_size']}, not {n}"
    return f"{n} processes recorded"


def images(folder: str) -> str:
    import torch

    from ganzoo.sampling import save_grid

    d = Path(folder)
    d.mkdir(parents=True, exist_ok=True)
    g = torch.Generator().manual_seed(0)
    for i in range(1024):
        save_grid(torch.rand(1, 3, 32, 32, generator=g), d / f"{i:04d}.png", columns=1)
    return f"1024 random 32x32 PNGs in {d}"


def streamed(folder: str) -> str:
    import torch

    from ganzoo.plugins.image_folder import ImageFolder
    from ganzoo.training.batches import StreamBatches

    ds = ImageFolder(Path(folder), image_size=32, max_memory_mb=0.01).load()
    assert not isinstance(ds, torch.Tensor), "the folder was loaded into memory, not streamed"
    batches = StreamBatches(ds, (0.0, 1.0), (-1.0, 1.0), 0, torch.device("cuda"), 64)
    x = batches.next(64)
    assert x.is_cuda and x.shape == (64, 3, 32, 32), (x.device, x.shape)
    assert batches.loader.pin_memory, "the DataLoader does not pin memory on CUDA"
    return f"a streamed batch {tuple(x.shape)} reached {x.device} through pinned memory"


def precision(run: str, want: str) -> str:
    config = json.loads((Path(run) / "config.json").read_text())
    got = config["run"]["train"]["precision"]
    assert got == want, f"the run trained in {got}, not {want}"
    return f"the run trained in {got}"


def img_per_s(bench: str) -> str:
    sides = json.loads(Path(bench).read_text())["shapes"]["3x32x32"]["sides"]
    return ", ".join(f"{k}: {v['img_per_s']:.0f} img/s" for k, v in sides.items())


CHECKS = {
    "dist-info": dist_info,
    "installed": installed,
    "device": device,
    "missing-device": missing_device,
    "finite": finite,
    "recipe": recipe,
    "same-weights": same_weights,
    "moved": moved,
    "eval-json": eval_json,
    "syncs": syncs,
    "cost": cost,
    "world": world,
    "images": images,
    "streamed": streamed,
    "precision": precision,
    "img-per-s": img_per_s,
}

if __name__ == "__main__":
    try:
        print(CHECKS[sys.argv[1]](*sys.argv[2:]))
    except AssertionError as exc:  # the reason, as the check's one line
        print(f"check failed: {exc}", file=sys.stderr)
        sys.exit(1)
