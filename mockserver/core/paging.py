"""`start`/`end`/`count` query parameters shared by every list endpoint."""
from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass

from .checks import flag
from .errors import BadRequest
from .ids import MAX_ID_DIGITS

PAGE_LIMIT = 500  # the real API never returns more than 500 items per call


@dataclass(frozen=True)
class Page:
    start: int
    end: int
    count: bool


def _index(args: Mapping[str, str], name: str, default: int) -> int:
    raw = args.get(name)
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit():
        raise BadRequest(f"query parameter {name!r} must be a non-negative integer, got {raw[:40]!r}")
    digits = raw.lstrip("0") or "0"
    # no list holds more records than there are ids: a longer index is past any list, an empty page
    return int(digits) if len(digits) <= MAX_ID_DIGITS else sys.maxsize


def parse_page(args: Mapping[str, str]) -> Page:
    """Read paging from a query: 400 on non-integers, negatives or `end < start` (unless counting)."""
    if flag(args, "count"):
        return Page(0, 0, True)  # start/end are ignored when counting
    start = _index(args, "start", 0)
    end = _index(args, "end", start + PAGE_LIMIT)
    if end < start:
        raise BadRequest(f"query parameter 'end' ({end}) must not be less than 'start' ({start})")
    return Page(start, min(end, start + PAGE_LIMIT), False)
