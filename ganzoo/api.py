"""ganzoo's Python API: the command line is a thin layer over these functions. Each lives in the
module of its command (ganzoo.commands) and returns a typed result; they are gathered here."""

from __future__ import annotations

from ganzoo.commands.catalogue import ComponentRow, list_components
from ganzoo.commands.data import DataRow, data_fetch, data_status
from ganzoo.commands.evaluation import Evaluation, evaluate
from ganzoo.commands.generate import Generated, generate, top_scored
from ganzoo.commands.show import RunInfo, show
from ganzoo.commands.train import train
from ganzoo.rundir import load_generator

__all__ = [
    "ComponentRow",
    "DataRow",
    "Evaluation",
    "Generated",
    "RunInfo",
    "data_fetch",
    "data_status",
    "evaluate",
    "generate",
    "list_components",
    "load_generator",
    "show",
    "top_scored",
    "train",
]
