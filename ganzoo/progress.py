"""Training progress: a rich bar with live figures on a terminal, plain lines everywhere else."""

from __future__ import annotations

import sys
import time
from typing import Any, Protocol, TextIO

from ganzoo.figures import line


class Progress(Protocol):
    def start(self, total: int, done: int = 0) -> None: ...
    def advance(self, step: int) -> None: ...
    def metrics(self, step: int, values: dict[str, float]) -> None: ...
    def note(self, text: str) -> None: ...
    def stop(self) -> None: ...


class PlainProgress:
    """One line per logged step: greppable, no control codes (CI, pipes, files)."""

    def __init__(self, stream: TextIO | None = None, quiet: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.total = 0
        self.t0 = time.perf_counter()
        self.done0 = 0

    def start(self, total: int, done: int = 0) -> None:
        self.total, self.done0, self.t0 = total, done, time.perf_counter()

    def advance(self, step: int) -> None:
        pass

    def metrics(self, step: int, values: dict[str, float]) -> None:
        if self.quiet:
            return
        elapsed = time.perf_counter() - self.t0
        rate = (step - self.done0) / elapsed if elapsed > 0 else 0.0
        eta = (self.total - step) / rate if rate > 0 else 0.0
        print(
            f"step {step}/{self.total}  {line(values)}  {rate:.0f} it/s  eta {eta:.0f}s",
            file=self.stream,
            flush=True,
        )

    def note(self, text: str) -> None:
        if not self.quiet:
            print(text, file=self.stream, flush=True)

    def stop(self) -> None:
        pass


class RichProgress:
    """A live bar (step, it/s, elapsed, ETA) with the latest D loss, G loss, D(x) and D(G(z)) below it."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.text import Text

        owner = self

        class TwoLines(Progress):
            def get_renderables(self) -> Any:
                yield self.make_tasks_table(self.tasks)
                yield Text(owner.figures, style="bold")

        self.console = Console(stderr=True)
        self.figures = ""
        self.bar = TwoLines(
            TextColumn("[bold]training"),
            BarColumn(bar_width=24),
            MofNCompleteColumn(),
            TextColumn("[cyan]{task.fields[rate]}"),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=self.console,
            refresh_per_second=8,
        )
        self.task: Any = None
        self.t0 = time.perf_counter()
        self.done0 = 0

    def start(self, total: int, done: int = 0) -> None:
        self.bar.start()
        self.t0, self.done0 = time.perf_counter(), done
        self.task = self.bar.add_task("train", total=total, completed=done, rate="")

    def advance(self, step: int) -> None:
        elapsed = time.perf_counter() - self.t0
        rate = f"{(step - self.done0) / elapsed:.0f} it/s" if elapsed > 0 else ""
        self.bar.update(self.task, completed=step, rate=rate)

    def metrics(self, step: int, values: dict[str, float]) -> None:
        self.figures = line(values)
        self.advance(step)

    def note(self, text: str) -> None:
        self.bar.console.print(text, markup=False)  # above the live bar, which stays

    def stop(self) -> None:
        self.bar.stop()


def make_progress(quiet: bool = False) -> Progress:
    """Rich on a terminal, plain lines otherwise."""
    if not quiet and sys.stderr.isatty():
        return RichProgress()
    return PlainProgress(quiet=quiet)
