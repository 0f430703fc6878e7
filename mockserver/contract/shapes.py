"""Comparing an answer of the real API with the mock's: JSON shapes, and values where both were seeded.

A shape is what a client's parser relies on: field names, each value's kind (null, boolean,
number, string, an `@D:` date, a date in another form, list, object) and, recursively, the shapes
inside. Values are compared too, except in the fields the servers make (ids and times of new
records: `made`), which are compared by kind only. A JSON number is a number (8 and 8.0 alike).
"""
from __future__ import annotations

import json
import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from ..core.dates import EMMA_DATE
from .client import NOT_JSON

_EMMA_DATE = re.compile(EMMA_DATE)
_SOME_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9:.]+)?(Z|[+-][0-9:]+)?|@D:.*|[0-9]{10,13}")


@dataclass
class Difference:
    """One way the answers differ: where in the answer, what, and both sides' values."""

    where: str  # `status`, `body`, `[0].type_name`, ...
    what: str
    real: Any = None
    mock: Any = None
    modelled: bool = True  # False: a field the real API has and the mock does not model


def kind(value: Any) -> str:
    """The kind of a JSON value as shapes compare it."""
    if value is NOT_JSON:
        return "not JSON"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        if _EMMA_DATE.fullmatch(value):
            return "@D: date"
        return "date in another form" if _SOME_DATE.fullmatch(value) else "string"
    return "list" if isinstance(value, list) else "object"


def compare(real: Any, mock: Any, made: Collection[str] = (), values: bool = True, where: str = "") -> list[Difference]:
    """Every difference between two answers' bodies; `made` names fields compared by kind only."""
    real_kind, mock_kind = kind(real), kind(mock)
    if real_kind != mock_kind:
        dated = "date" in real_kind and "date" in mock_kind
        return [Difference(where or "body", "date form" if dated else "kind", real, mock)]
    if isinstance(real, dict):
        return _compare_objects(real, mock, made, values, where)
    if isinstance(real, list):
        found = []
        if len(real) != len(mock):
            found.append(Difference(where or "body", "number of items", len(real), len(mock)))
        for index, (one, other) in enumerate(zip(real, mock, strict=False)):
            found += compare(one, other, made, values, f"{where}[{index}]")
        return found
    if values and not _same_value(real, mock):
        return [Difference(where or "body", "value", real, mock)]
    return []


def _same_value(real: Any, mock: Any) -> bool:
    if isinstance(real, int | float) and not isinstance(real, bool):
        return float(real) == float(mock)
    return bool(real == mock)


def _compare_objects(real: dict[str, Any], mock: dict[str, Any], made: Collection[str], values: bool,
                     where: str) -> list[Difference]:
    found = []
    extra = sorted(set(real) - set(mock))
    for name in extra:
        found.append(Difference(f"{where}.{name}".lstrip("."), "not modelled", real[name], None, modelled=False))
    for name in mock:
        path = f"{where}.{name}".lstrip(".")
        if name not in real:
            instead = f" (it has {', '.join(repr(e) for e in extra)} instead: renamed?)" if extra else ""
            found.append(Difference(path, f"missing in the real answer{instead}", None, mock[name]))
            continue
        found += compare(real[name], mock[name], made, values and name not in made, path)
    return found


def shown(value: Any, limit: int = 60) -> str:
    """A value in a report line: its JSON, cut to `limit` characters."""
    text = repr(value) if value is NOT_JSON else json.dumps(value)
    return text if len(text) <= limit else text[:limit] + "…"


def described(difference: Difference) -> str:
    """A difference as a report line says it: where, what, and both values."""
    where, what, real, mock = difference.where, difference.what, difference.real, difference.mock
    if not difference.modelled:
        return f"{where}: not modelled (the real API has it: {shown(real)})"
    if what.startswith("missing"):
        return f"{where}: {what}; the mock has {shown(mock)}"
    if what in ("kind", "date form"):
        return f"{where}: {what} differs: real {kind(real)} {shown(real)}, mock {kind(mock)} {shown(mock)}"
    return f"{where}: {what} differs: real {shown(real)}, mock {shown(mock)}"
