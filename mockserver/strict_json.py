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


def loads(raw: str | bytes) -> Any:
    """Parse JSON; ValueError (or RecursionError for absurd nesting) when it is not strict JSON."""
    return json.loads(raw, parse_constant=_reject_constant, parse_float=_finite_float)
