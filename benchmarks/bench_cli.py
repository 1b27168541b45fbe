"""Times ganzoo's quick commands (--help, --version, list) as subprocesses against `python -c pass`.

Every command runs once per round, rounds interleaved, and the median is reported; the bare
interpreter start is the floor no command can go under. Nothing here is asserted by the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGETS_MS = {"ganzoo --help": 150.0, "ganzoo list": 400.0}
TARGET_NOTES = {"ganzoo --help": "<= 150 ms", "ganzoo list": "<= 400 ms"}
EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "examples" / "ganzoo-resnet"

# Runs `ganzoo list` in-process, then reports which heavy modules it imported.
PROBE = """
import contextlib, io, sys
from ganzoo.cli import cli
with contextlib.redirect_stdout(io.StringIO()):
    cli.main(args=["list"], prog_name="ganzoo", standalone_mode=False)
print(",".join(m for m in ("torch", "torchvision", "numpy", "matplotlib") if m in sys.modules) or "-")
"""


def ganzoo_exe() -> str:
    here = Path(sys.executable).parent / "ganzoo"
    return str(here) if here.exists() else (shutil.which("ganzoo") or "ganzoo")


def wall_ms(cmd: list[str]) -> float:
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True)
    ms = (time.perf_counter() - t) * 1000
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr.decode()[-500:]}")
    return ms


def install_plugin(source: Path, site: Path) -> None:
    """A third-party plugin as a user has it: built and installed, found through its entry point."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            *["pip", "install", "-q", "--no-deps", "--no-build-isolation", "--target"],
            str(site),
            str(source),
        ],
        check=True,
        capture_output=True,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15, help="runs of each command (median reported)")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    ap.add_argument(
        "--plugin",
        type=Path,
        default=EXAMPLE,
        help="a third-party plugin project installed for the run (default: docs/examples/ganzoo-resnet)",
    )
    ap.add_argument("--no-plugin", action="store_true", help="time the built-ins alone")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as site:
        if not args.no_plugin:
            install_plugin(args.plugin, Path(site))
            os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [site, os.environ.get("PYTHONPATH")]))
        run(args)


def run(args: argparse.Namespace) -> None:

    exe = ganzoo_exe()
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "ganzoo --help": [exe, "--help"],
        "ganzoo --version": [exe, "--version"],
        "ganzoo list": [exe, "list"],
    }
    for cmd in commands.values():  # warm the file cache
        wall_ms(cmd)
    times: dict[str, list[float]] = {k: [] for k in commands}
    names = list(commands)
    for r in range(args.runs):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            times[name].append(wall_ms(commands[name]))
    med = {k: statistics.median(v) for k, v in times.items()}
    probe = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    heavy = probe.stdout.strip().splitlines()[-1]
    listed = subprocess.run([ganzoo_exe(), "list", "--json"], capture_output=True, text=True, check=True)
    plugins = sorted({c["dist"] for c in json.loads(listed.stdout) if c.get("dist") != "ganzoo"})

    floor = med["python -c pass"]
    result = {
        "runs": args.runs,
        "median_ms": med,
        "above_floor_ms": {k: v - floor for k, v in med.items()},
        "targets_ms": TARGETS_MS,
        "met": {k: med[k] <= t for k, t in TARGETS_MS.items()},
        "list_imports": [] if heavy == "-" else heavy.split(","),
        "third_party": plugins,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"python {sys.version.split()[0]}, {exe}, median of {args.runs} interleaved runs")
    print(f"third-party plugins installed: {', '.join(plugins) or 'none'}")
    for name, ms in med.items():
        line = f"  {name:18s} {ms:7.1f} ms   (+{ms - floor:6.1f} ms over the floor)"
        if name in TARGETS_MS:
            line += f"   target {TARGET_NOTES[name]}: {'met' if result['met'][name] else 'NOT met'}"
        print(line)
    imported = result["list_imports"]
    print(f"torch imported by `ganzoo list`: {'yes' if 'torch' in imported else 'no'}", end="")
    print(f"   (heavy modules loaded: {', '.join(imported) or 'none'})")


if __name__ == "__main__":
    main()
