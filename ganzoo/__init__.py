"""ganzoo: a plugin-based GAN zoo for the command line, and its Python API.

    import ganzoo
    run = ganzoo.train("vanilla-mlp", "mnist", iterations=2000, seed=0)
    g = ganzoo.load_generator(run.run_dir)
    images = g.sample(16, seed=0)            # (16, 1, 28, 28) in [0, 1]
    ganzoo.list_components("generator")

Importing this package is cheap: torch loads only when a component is built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ganzoo import threads
from ganzoo.hookspecs import hookimpl
from ganzoo.version import __version__

# OpenMP's wait policy must be chosen before torch is first imported (ganzoo.threads).
threads.choose()

__all__ = [
    "Run",
    "__version__",
    "generate",
    "hookimpl",
    "list_components",
    "load_generator",
    "show",
    "train",
]

if TYPE_CHECKING:
    from ganzoo.api import generate, list_components, load_generator, show, train
    from ganzoo.rundir import Run

# (``ganzoo.api.evaluate`` stays there: ``ganzoo.evaluate`` is the module of that name.)
_API = {"train", "load_generator", "list_components", "generate", "show"}


def __getattr__(name: str) -> Any:
    """The API functions, imported on first use so that ``import ganzoo`` stays light."""
    if name in _API:
        from ganzoo import api

        return getattr(api, name)
    if name == "Run":
        from ganzoo.rundir import Run

        return Run
    raise AttributeError(f"module 'ganzoo' has no attribute {name!r}")
