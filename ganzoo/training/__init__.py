"""Training a GAN, one job a module.

- :mod:`.engine`: the device, precision, compile and DDP wrappers behind one forward and one update call;
- :mod:`.step`: one iteration, each update order (split, joint, concat, mixed) a small function;
- :mod:`.state`: what a checkpoint holds, saved and restored bit for bit;
- :mod:`.reporters`: the log, pictures, TensorBoard, eval and progress as callbacks on the loop's events;
- :mod:`.assemble`: the run as frozen values (:class:`~.assemble.Setup`), the trainer's parts built from it;
- :mod:`.loop`: the :class:`Trainer` (the run, signals, divergence, the ranks agreeing on stops);
- :mod:`.launch`: a planned run made real (:func:`~.launch.build`) and trained (:func:`~.launch.execute`);
- :mod:`.batches` (where real batches come from) and :mod:`.ema` (the moving average of G).

Importing this package is light; ``Trainer`` and ``Reporter`` load on first use.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Reporter", "Trainer"]


def __getattr__(name: str) -> Any:
    if name == "Trainer":
        from ganzoo.training.loop import Trainer

        return Trainer
    if name == "Reporter":
        from ganzoo.training.reporters import Reporter

        return Reporter
    raise AttributeError(f"module 'ganzoo.training' has no attribute {name!r}")
