"""The small checks every layer makes of JSON values and query flags, in one place.

JSON's `true` is a Python bool, and bool is a subclass of int: an "integer"
field must refuse it explicitly, which is easy to forget one check at a time.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, TypeGuard

# `count=true`: also `True` (the vendor's Python wrapper sends count=True) and `1`.
TRUE_FLAGS = frozenset({"true", "True", "1"})


def is_int(value: Any) -> TypeGuard[int]:
    """A JSON integer (not a boolean)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> TypeGuard[int | float]:
    """A JSON number (not a boolean)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def fits_a_float(value: int | float) -> bool:
    """Whether a number survives conversion to a finite float (a 400-digit integer does not)."""
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def flag(args: Mapping[str, str], name: str) -> bool:
    """Whether a query flag such as `count` is set (`true`, `True` or `1`)."""
    return args.get(name) in TRUE_FLAGS
