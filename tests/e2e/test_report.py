"""``ganzoo report``: the page loads in a real headless browser with no console error and no
network request, and holds every run's tables and pictures (Debian's chromium; .ci/run installs it)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlparse

import pytest
from click.testing import CliRunner

from ganzoo import api
from ganzoo.cli import cli

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
#: A quiet browser: no updates, sync, accounts or other background traffic of its own.
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-default-apps",
    "--disable-extensions", "--disable-domain-reliability", "--disable-client-side-phishing-detection",
    "--disable-breakpad", "--no-default-browser-check", "--enable-logging=stderr", "--v=0",
]  # fmt: skip


def browse(page: Path, tmp: Path) -> tuple[str, set[str], list[str]]:
    """Load ``page`` in headless chromium: its DOM, the hosts of every request, the console lines."""
    assert CHROMIUM is not None
    net = tmp / f"{page.stem}-net.json"
    args = [f"--log-net-log={net}", f"--user-data-dir={tmp / 'profile'}", "--dump-dom", page.as_uri()]
    done = subprocess.run([CHROMIUM, *FLAGS, *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    events = json.loads(net.read_text())["events"]
    hosts = {urlparse(e["params"]["url"]).hostname or "" for e in events if "url" in e.get("params", {})}
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    return done.stdout, {h for h in hosts if h}, console


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (.ci/run installs it)")
def test_the_report_loads_offline_without_errors_and_holds_every_run(tmp_path: Path, mnist_dir: Path) -> None:
    runs = []
    for name, options in (("plain", {}), ("conditional", {"conditional": True, "eval_every": 5})):
        runs.append(
            api.train(
                "vanilla-mlp", "mnist", out=tmp_path / name, data_dir=mnist_dir, iterations=10, seed=0,
                device="cpu", sample_every=5, sets=["eval_n=40"], **options,
            ).path
        )  # fmt: skip
    api.evaluate(runs[0], n=40, batch_size=20)
    page = tmp_path / "report.html"
    result = CliRunner().invoke(cli, ["report", *map(str, runs), "-o", str(page)])
    assert result.exit_code == 0, result.output

    # The harness sees what it must refuse: a page that fetches and logs an error.
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<html><body><img src="http://example.com/x.png"><script>console.error("no")</script></body></html>'
    )
    _, bad_hosts, bad_console = browse(bad, tmp_path)
    assert "example.com" in bad_hosts and bad_console
    blank = tmp_path / "blank.html"
    blank.write_text("<html><body></body></html>")
    _, background, _ = browse(blank, tmp_path)  # the browser's own requests, if any slip through

    dom, hosts, console = browse(page, tmp_path)
    assert hosts <= background, f"the report fetched {hosts - background}"
    assert console == [], console
    for i, name in enumerate(("plain", "conditional")):
        section = dom.split(f'id="run-{i}"')[1].split("</section>")[0]
        assert f"<h2>{name}</h2>" in section
        assert section.count('src="data:image/png;base64,') == 2 + 1  # grids at 5 and 10, losses
        assert '<table class="settings">' in section
    assert '<table class="evals">' in dom.split('id="run-1"')[1]  # --eval-every's figures over training
    assert '<table class="compare">' in dom and "★" in dom
    assert not re.search(r'(src|href)="(?!data:)', dom)  # nothing to fetch
