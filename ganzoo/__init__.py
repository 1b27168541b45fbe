"""ganzoo: a plugin-based GAN zoo for the command line.

Importing this package is cheap: torch loads only when a component is built.
"""

from __future__ import annotations

from ganzoo.hookspecs import hookimpl

__version__ = "0.1.0"

__all__ = ["__version__", "hookimpl"]
