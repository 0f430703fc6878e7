"""Ids as they appear in paths: the one definition routing, authentication, faults and the journal share."""
from __future__ import annotations

MAX_ID_DIGITS = 18
MAX_ID = 10**MAX_ID_DIGITS - 1  # every stored id fits in a path segment (and in a signed 64-bit integer)
# The same set as parse_id, for routers that match a segment by regular expression (no backtracking):
ID_REGEX = f"(?:0|[1-9][0-9]{{0,{MAX_ID_DIGITS - 1}}})"


def parse_id(segment: str) -> int | None:
    """The id a path segment names, or None when it names none.

    Only ASCII `0-9`: no sign, space, underscore, Unicode digit or leading zero
    (`/0100/` is not `/100/`, so a path glob and an account id always agree),
    and at most MAX_ID_DIGITS (18) digits.
    """
    if not segment or len(segment) > MAX_ID_DIGITS or not (segment.isascii() and segment.isdigit()):
        return None
    if segment[0] == "0" and len(segment) > 1:
        return None
    return int(segment)


def account_in_path(path: str) -> int | None:
    """The account id that starts an API path (read as routing reads it), or None when there is none."""
    return parse_id(path[1:].split("/", 1)[0])
