"""The Python half of gpu_check.sh: each subcommand checks one thing, prints one line, exits 0 or not.

python benchmarks/gpu_check.py device | finite RUN.json | images DIR | streamed DIR
python benchmarks/gpu_check.py same-weights RUN_A RUN_B | precision RUN WANT | img-per-s BENCH.json
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path


def device() -> str:
    from ganzoo.devices import resolve_device

    d = resolve_device("auto")
    assert d.type == "cuda", f"--device auto picked {d}, not CUDA"
    return f"--device auto picked {d}"


def finite(result: str) -> str:
    r = json.loads(Path(result).read_text())
    bad = [k for k, v in r["last"].items() if not math.isfinite(v)]
    assert not bad, f"not finite at the end: {bad}"
    return f"{r['steps']} steps in {r['seconds']:.1f} s, last g_loss {r['last']['g_loss']:.3f}, all finite"


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


def same_weights(a: str, b: str, allow_difference: str = "") -> str:
    """Bit for bit, unless a third argument allows a difference (cuDNN may pick other kernels)."""
    from safetensors.torch import load_file

    wa, wb = (load_file(str(Path(r) / "generator.safetensors")) for r in (a, b))
    diff = max((wa[k].float() - wb[k].float()).abs().max().item() for k in wa)
    exact = "bit-identical" if diff == 0 else "NOT bit-identical"
    assert diff == 0 or allow_difference, f"the resumed generator is {diff:.3g} away from the straight run's"
    return f"resumed vs straight run: max |difference| of G's weights {diff:.3g}, {exact}"


def precision(run: str, want: str) -> str:
    config = json.loads((Path(run) / "config.json").read_text())
    got = config["run"]["train"]["precision"]
    assert got == want, f"the run trained in {got}, not {want}"
    return f"the run trained in {got}"


def img_per_s(bench: str) -> str:
    sides = json.loads(Path(bench).read_text())["shapes"]["3x32x32"]["sides"]
    return ", ".join(f"{k}: {v['img_per_s']:.0f} img/s" for k, v in sides.items())


CHECKS = {
    "device": device,
    "finite": finite,
    "images": images,
    "streamed": streamed,
    "same-weights": same_weights,
    "precision": precision,
    "img-per-s": img_per_s,
}

if __name__ == "__main__":
    print(CHECKS[sys.argv[1]](*sys.argv[2:]))
