"""What the fuzz tests share: one trained run for the whole directory, and fuzzkit on sys.path.

pytest imports test files with ``--import-mode=importlib``, so sibling modules are not importable
by default; this conftest puts this folder on ``sys.path`` for ``import fuzzkit``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import fuzzkit

from ganzoo import env


@pytest.fixture(scope="session")
def base_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A vanilla-mlp run trained 2 iterations on the digit fixture, once for the directory.

    Examples copy it (``fuzzkit.copy_run``) before damaging anything. It is trained in an
    environment as bare as the autouse ``isolated`` fixture's, which has not run yet at session scope.
    """
    return _train_base(tmp_path_factory, conditional=False)


@pytest.fixture(scope="session")
def base_conditional_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same run, class-conditional (``--conditional``)."""
    return _train_base(tmp_path_factory, conditional=True)


def _train_base(tmp_path_factory: pytest.TempPathFactory, conditional: bool) -> Path:
    import torch

    from ganzoo import api
    from ganzoo import manager as manager_module

    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("fuzz-base")
    with pytest.MonkeyPatch.context() as mp:
        for variable in env.ALL:
            mp.delenv(variable.name, raising=False)
        mp.setenv(env.OFFLINE.name, "1")
        mp.setenv(env.CACHE.name, str(root / "cache"))
        mp.setenv("XDG_CONFIG_HOME", str(root / "config"))
        manager_module._MANAGER = None
        api.train(
            "vanilla-mlp",
            "mnist",
            out=root / "run",
            data_dir=fuzzkit.FIXTURE,
            iterations=2,
            seed=0,
            device="cpu",
            conditional=conditional,
        )
        manager_module._MANAGER = None
    return root / "run"


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """The fixture's networks are tiny, and the machine's cores are shared: one thread, restored after."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
