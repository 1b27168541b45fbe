"""What the commands' typed results share: JSON for ``--json`` and scripts, and the dictionary access
(``info["steps"]``) that the API returned before ganzoo 0.3, which keeps working."""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any


class Result:
    """A dataclass result readable as the dict it used to be: ``r["key"]``, ``r.get("key")``, ``"key" in r``.

    A field that is None and marked optional-in-JSON (``metadata={"json": "omit-none"}``) is left out
    of the JSON, as the dicts left those keys out.
    """

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if value is None and f.metadata.get("json") == "omit-none":
                continue
            out[f.name] = _plain(value)
        return out

    def __getitem__(self, key: str) -> Any:
        doc = self.to_json()
        if key not in doc:
            raise KeyError(key)
        return doc[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.to_json().get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self.to_json()

    def keys(self) -> Any:
        return self.to_json().keys()


def _plain(value: Any) -> Any:
    if isinstance(value, Result):
        return value.to_json()
    if hasattr(value, "__dataclass_fields__"):
        return asdict(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
