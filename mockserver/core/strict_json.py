"""JSON as the standard defines it: no NaN, no Infinity, and no number too large for a float."""
from __future__ import annotations

import json
import math
from typing import Any


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"number {text[:40]} is too large")
    return value


# Far below the recursion limit, so whatever parsed can be encoded again from any stack depth:
MAX_DEPTH = 512  # request bodies
DOCUMENT_DEPTH = MAX_DEPTH + 16  # whole states (upload, fixtures, db file) nest the same records a few levels deeper


def loads(raw: str | bytes, max_depth: int = MAX_DEPTH) -> Any:
    """Parse JSON; ValueError (or RecursionError for absurd nesting) when it is not strict JSON."""
    value = json.loads(raw, parse_constant=_reject_constant, parse_float=_finite_float)
    openers = raw.count(b"[" if isinstance(raw, bytes) else "[") + raw.count(b"{" if isinstance(raw, bytes) else "{")
    if openers > max_depth and _deeper_than(value, max_depth):
        raise RecursionError(f"JSON nested more than {max_depth} levels deep")
    return value


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether arrays/objects nest more than `limit` levels (iterative: no recursion of its own)."""
    stack = [(value, 1)] if isinstance(value, (dict, list)) else []
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False
