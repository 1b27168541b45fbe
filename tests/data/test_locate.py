"""The one chain every dataset's files are found through, and its message when none has them."""

from __future__ import annotations

import pytest

from ganzoo.data.locate import NotThere, Source, and_join, locate, no_data_folder
from ganzoo.errors import DataError


def nowhere(tried: str, skipped: bool) -> str:
    return f"looked in: {tried}; skipped: {skipped}"


def miss(why: str) -> Source:
    def look() -> object:
        raise NotThere(why)

    return Source(f"place {why}", look)


def test_the_first_place_that_has_the_files_wins() -> None:
    calls: list[str] = []

    def found(name: str) -> object:
        calls.append(name)
        return name

    sources = [miss("a"), Source("b", lambda: found("b")), Source("c", lambda: found("c"))]
    assert locate(sources, True, nowhere) == "b" and calls == ["b"]


def test_nothing_found_lists_every_place_tried_and_why() -> None:
    with pytest.raises(DataError) as err:
        locate([no_data_folder(), miss("empty"), miss("bad hash")], True, nowhere)
    assert str(err.value) == (
        "looked in: no data folder (--data-dir or $GANZOO_DATA was not given); place empty (empty); "
        "place bad hash (bad hash); skipped: False"
    )


def test_sources_that_fetch_run_only_when_fetching_and_downloads_not_offline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ran: list[str] = []

    def fetch() -> object:
        ran.append("fetch")
        raise DataError("the mirror did not answer.")

    sources = [miss("cache"), Source("the mirror", fetch, fetches=True, network=True)]
    with pytest.raises(DataError, match=r"place cache \(cache\); skipped: False$"):
        locate(sources, False, nowhere)  # ganzoo data list: nothing is downloaded
    with pytest.raises(DataError, match=r"the mirror \(skipped: GANZOO_OFFLINE is set\); skipped: True"):
        locate(sources, True, nowhere)  # the test suite runs offline
    assert ran == []
    monkeypatch.delenv("GANZOO_OFFLINE")
    with pytest.raises(DataError, match=r"the mirror \(the mirror did not answer\); skipped: False"):
        locate(sources, True, nowhere)
    assert ran == ["fetch"]


def test_and_join_reads_as_a_sentence() -> None:
    assert and_join([]) == "" and and_join(["a"]) == "a"
    assert and_join(["a", "b", "c"]) == "a, b and c" and and_join(["a", "b"], "or") == "a or b"
