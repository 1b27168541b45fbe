"""What a plugin author, or a user of their plugin, can get wrong: one clear sentence each.

The rows follow tests/e2e/test_bad_input.py (arguments, exit status, a fragment of the message;
no traceback, no file left behind), with a few throwaway plugin distributions installed: one that
shadows the built-in loss ``hinge``, a discriminator returning two logits a sample, a dataset
whose values lie outside its declared range, and a run trained with a plugin since uninstalled.
"""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ganzoo import api
from ganzoo import manager as manager_module

CASES = [
    (["-p", "no:nope", "list"], 2, "no plugin or distribution named nope is installed; installed:"),
    # a network hyperparameter of the wrong type or sign
    (
        ["train", "vanilla-mlp", "mnist", "--set", "generator.hidden=abc"],
        2,
        "generator.hidden must be a whole number, got 'abc'.",
    ),
    (
        ["train", "vanilla-mlp", "mnist", "--set", "generator.hidden=2.5"],
        2,
        "generator.hidden must be a whole number, got 2.5.",
    ),
    (
        ["train", "vanilla-mlp", "mnist", "--data-dir", "{mnist}", "--set", "generator.hidden=-3"],
        2,
        "generator.hidden must be a positive whole number, got -3.",
    ),
    (
        ["train", "dcgan", "mnist", "--data-dir", "{mnist}", "--set", "generator.base_channels=0"],
        2,
        "generator.base_channels must be a positive whole number, got 0.",
    ),
    (
        ["train", "vanilla-mlp", "mnist", "--set", "discriminator.negative_slope=true"],
        2,
        "discriminator.negative_slope must be a number, got true.",
    ),
    # a new plugin named like something installed
    (
        ["new-plugin", "vanilla-mlp", "--dir", "{tmp}"],
        2,
        "'vanilla-mlp' is already registered (a generator of ganzoo",
    ),
    (["new-plugin", "ganzoo-hinge", "--dir", "{tmp}"], 2, "a loss of zz-hinge 1.0"),
    # a plugin that shadows a built-in
    (
        ["train", "vanilla-mlp", "mnist", "--data-dir", "{mnist}", "--loss", "hinge"],
        2,
        "choose one with 'ganzoo:hinge' (the built-in) or 'zz-hinge:hinge'; or disable zz-hinge with "
        "`ganzoo -p no:zz-hinge ...`",
    ),
    # a plugin's discriminator of the wrong shape, a plugin's dataset outside its range
    (
        ["train", "vanilla-mlp", "mnist", "--discriminator", "two-logits", "--data-dir", "{mnist}"],
        1,
        "returned a tensor of shape (2, 2) for a batch of 2; it must return (N,) or (N, 1) logits",
    ),
    (
        ["train", "vanilla-mlp", "zz-bytes"],
        1,
        "The dataset 'zz-bytes' declares values in [0, 1] (its value_range), but its training data holds "
        "values from 0 to 255",
    ),
    # a run whose plugin was uninstalled
    (["generate", "{gone}"], 1, "from zz-gone 1.0, which is not installed; `pip install zz-gone==1.0`"),
    (
        ["eval", "{gone}"],
        1,
        "Unknown generator 'zz-gone:gone': the run was trained with the generator 'gone'",
    ),
    (
        ["train", "--resume", "{gone}", "--iterations", "4"],
        1,
        "Unknown generator 'gone': the run was trained with the generator 'gone' from zz-gone 1.0",
    ),
]

PLUGINS = {
    "zz-hinge": """
        from ganzoo import hookimpl

        @hookimpl
        def register_losses(register):
            register("hinge", "ganzoo.plugins.bce:BCE", "A third party's loss that shadows the built-in.")
    """,
    "zz-shapes": """
        from ganzoo import hookimpl

        @hookimpl
        def register_discriminators(register):
            register("two-logits", "zz_shapes_nets:TwoLogits", "Two logits a sample.")
    """,
    "zz-bytes": """
        from ganzoo import hookimpl

        @hookimpl
        def register_datasets(register):
            register("zz-bytes", "zz_bytes_data:Bytes", "Pixels in 0..255 although it says [0, 1].")
    """,
}
MODULES = {
    "zz_shapes_nets": """
        from ganzoo.plugins.vanilla_mlp import Discriminator

        class TwoLogits(Discriminator):
            def forward(self, x):
                return super().forward(x).view(-1, 1).repeat(1, 2)
    """,
    "zz_bytes_data": """
        import torch
        from ganzoo.components import Dataset

        class Bytes(Dataset):
            name = "zz-bytes"
            shape = (1, 28, 28)
            value_range = (0.0, 1.0)

            def load(self, split="train"):
                return (torch.arange(64 * 784) % 256).float().view(64, 1, 28, 28)
    """,
}
GONE = """
    from ganzoo import hookimpl

    @hookimpl
    def register_generators(register):
        register("gone", "ganzoo.plugins.vanilla_mlp:Generator", "A generator soon uninstalled.")

    @hookimpl
    def register_discriminators(register):
        register("gone", "ganzoo.plugins.vanilla_mlp:Discriminator", "A discriminator soon uninstalled.")
"""


def install(site: Path, dist: str, body: str) -> None:
    module = dist.replace("-", "_")
    info = site / f"{module}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[ganzoo]\n{dist.removeprefix('zz-')} = {module}\n")
    (site / f"{module}.py").write_text(textwrap.dedent(body))


def forget(prefix: str = "zz_") -> None:
    importlib.invalidate_caches()
    for name in [m for m in sys.modules if m.startswith(prefix)]:
        del sys.modules[name]
    manager_module._MANAGER = None


@pytest.fixture(scope="module")
def gone_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A two-step run of the plugin architecture 'gone', whose distribution is then uninstalled."""
    site = tmp_path_factory.mktemp("gone-site")
    install(site, "zz-gone", GONE)
    run = tmp_path_factory.mktemp("gone") / "run"
    sys.path.insert(0, str(site))
    try:
        forget()
        fixture = Path(__file__).parents[1] / "fixtures" / "mnist"
        api.train("gone", "mnist", out=run, data_dir=fixture, iterations=2, seed=0, device="cpu")
    finally:
        sys.path.remove(str(site))
        forget()
    yield run


@pytest.fixture
def plugin_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    site = tmp_path / "site"
    site.mkdir()
    for dist, body in PLUGINS.items():
        install(site, dist, body)
    for module, body in MODULES.items():
        (site / f"{module}.py").write_text(textwrap.dedent(body))
    monkeypatch.syspath_prepend(str(site))
    forget()
    yield site
    forget()


@pytest.mark.parametrize("case", CASES, ids=[" ".join(c[0])[:60] for c in CASES])
def test_bad_plugin_input_is_one_clear_sentence(
    case: tuple,
    plugin_site: Path,
    gone_run: Path,
    mnist_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    one_sentence: Callable[..., str],
) -> None:
    argv, code, fragment = case
    work = tmp_path / "work"
    work.mkdir()
    fill = {"tmp": str(work), "mnist": str(mnist_dir), "gone": str(gone_run)}
    monkeypatch.chdir(work)
    stderr = one_sentence([a.format(**fill) for a in argv], code, fragment, work, gone_run, plugin_site)
    assert "warning" not in stderr.lower(), stderr  # one sentence: no torch warning beside it


def test_docs_errors_md_lists_every_plugin_case(undocumented: Callable[[list[tuple]], list[str]]) -> None:
    missing = undocumented(CASES)
    assert not missing, f"docs/errors.md lacks: {missing}"
