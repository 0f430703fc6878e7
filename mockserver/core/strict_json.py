"""JSON as the standard defines it: UTF-8; no NaN, no Infinity, no number too large for a float,
and no lone surrogate (`"\\ud800"` parses in Python but cannot be written as UTF-8 again)."""
from __future__ import annotations

import json
import math
import re
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


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")  # a cheap hint; _lone_surrogate() decides


def loads(raw: str | bytes, max_depth: int = MAX_DEPTH) -> Any:
    """Parse JSON; ValueError (or RecursionError for absurd nesting) when it is not strict JSON.

    Bytes must be UTF-8 (UnicodeDecodeError otherwise: json.loads alone would also take UTF-16/32).
    """
    text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw
    value = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    if text.count("[") + text.count("{") > max_depth and deeper_than(value, max_depth):
        raise RecursionError(f"JSON nested more than {max_depth} levels deep")
    if _SURROGATE_ESCAPE.search(text):
        where = _lone_surrogate(value)
        if where is not None:
            raise ValueError(f"the string at {where} holds a lone UTF-16 surrogate (\\ud800-\\udfff "
                             "not part of a pair), which is not text; send the character itself")
    return value


def _lone_surrogate(value: Any) -> str | None:
    """Where the first key or string that cannot be encoded as UTF-8 is (`$.a[0].b`), or None."""
    stack: list[tuple[Any, Any]] = [(value, ("$", None))]
    while stack:
        item, trail = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return _trail_text(trail)
        elif isinstance(item, dict):
            for key, child in item.items():
                step = (f".{key.encode('utf-8', 'backslashreplace').decode()}", trail)
                stack.append((key, step))
                stack.append((child, step))
        elif isinstance(item, list):
            stack.extend((child, (f"[{index}]", trail)) for index, child in enumerate(item))
    return None


def _trail_text(trail: Any) -> str:
    steps = []
    while trail is not None:
        steps.append(trail[0])
        trail = trail[1]
    return "".join(reversed(steps))[:200]


def deeper_than(value: Any, limit: int) -> bool:
    """Whether arrays/objects nest more than `limit` levels (iterative: no recursion of its own)."""
    stack = [(value, 1)] if isinstance(value, (dict, list)) else []
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False
