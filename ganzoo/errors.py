"""The one small hierarchy of errors ganzoo raises; the CLI turns each into one line."""

from __future__ import annotations


class GanzooError(Exception):
    """Base of every error a user can cause; the message is one clear sentence."""

    exit_code = 1


class UsageError(GanzooError):
    """A bad option value or an impossible combination of options (exit status 2)."""

    exit_code = 2


class UnknownComponentError(UsageError):
    """A component name that nothing registered."""


class AmbiguousComponentError(UsageError):
    """A short name that two distributions registered."""


class IncompatibleError(UsageError):
    """Components that cannot work together (a 1-D architecture on images, say)."""


class RecipeError(UsageError):
    """A zoo.toml that cannot be read, or a recipe with a key nothing declares."""


class PluginError(GanzooError):
    """A plugin that failed to load or whose component failed to build."""


class DataError(GanzooError):
    """A dataset that is missing, corrupt, or fails its checksum."""


class RunDirError(GanzooError):
    """A run directory or weights file that is missing, foreign or corrupt."""


class TrainingError(GanzooError):
    """Training that cannot go on (a NaN loss, an unusable device)."""


class Interrupted(GanzooError):
    """Ctrl-C or SIGTERM: a checkpoint was written and the run can be resumed."""

    def __init__(self, message: str, signum: int) -> None:
        super().__init__(message)
        self.exit_code = 128 + signum


class MetricsError(GanzooError):
    """An evaluation that cannot be done: no feature extractor for the data, or a corrupt one."""


def first_line(exc: BaseException, limit: int = 300) -> str:
    """The first line of an exception's message, for a sentence: torch's C++ errors carry a stack of
    frames after it. Cut to ``limit`` characters; the class name when there is no message."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = lines[0] if lines else type(exc).__name__
    return text if len(text) <= limit else f"{text[: limit - 3]}..."
