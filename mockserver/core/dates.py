"""Emma's `@D:` dates: parsing what requests may send, formatting what responses carry.

Responses always say `@D:YYYY-MM-DDTHH:MM:SS` in UTC with no fraction. Requests
may send that form or a strict ISO 8601 date-time (`YYYY-MM-DDTHH:MM:SS`,
optional fraction, optional `Z` or `±HH:MM`; no offset means UTC). Everything
else is refused: a mock more lenient than the real API teaches clients to rely
on leniency.
"""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

# The two accepted forms, as regular expressions (ASCII digits only; the OpenAPI document uses them too).
_DATE_TIME = r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})"
EMMA_DATE = "@D:" + _DATE_TIME  # what responses carry: UTC, no fraction
ISO_DATE = _DATE_TIME + r"(?:\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})?"  # also accepted in requests
_EMMA = re.compile(EMMA_DATE)
_ISO = re.compile(ISO_DATE)


class DateError(ValueError):
    """A value that is not a date the API accepts."""


def format_date(moment: datetime) -> str:
    """`@D:` form of an aware (or UTC-naive) datetime, converted to UTC, fraction dropped."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return (f"@D:{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
            f"T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}")


def parse_date(value: object) -> str:
    """Validate a date from a request or fixture and return its `@D:` form in UTC."""
    if isinstance(value, str) and len(value) == 22 and _EMMA.fullmatch(value):
        try:  # already canonical (every date of a saved state): a calendar check at C speed
            datetime.fromisoformat(value[3:])
            return value
        except ValueError:
            raise DateError(f"{value[:40]!r} is not a valid calendar date-time") from None
    return format_date(parse_datetime(value))


def parse_datetime(value: object) -> datetime:
    """Validate a date from a request or fixture and return it as an aware UTC datetime."""
    if not isinstance(value, str):
        raise DateError("must be a date string such as \"@D:2025-12-02T11:23:47\" or \"2025-12-02T11:23:47Z\"")
    match = _EMMA.fullmatch(value)
    offset = None
    if match is None:
        match = _ISO.fullmatch(value)
        if match is None:
            raise DateError(
                f"{value[:40]!r} is not a date: use \"@D:YYYY-MM-DDTHH:MM:SS\" or ISO 8601 "
                "\"YYYY-MM-DDTHH:MM:SS[.fff][Z|+HH:MM]\""
            )
        offset = match.group(7)
    try:
        year, month, day, hour, minute, second = (int(part) for part in match.group(1, 2, 3, 4, 5, 6))
        moment = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
        if offset and offset != "Z":
            hours, minutes = int(offset[1:3]), int(offset[4:6])
            if hours > 23 or minutes > 59:
                raise ValueError("offset out of range")
            delta = timedelta(hours=hours, minutes=minutes)
            moment = moment - delta if offset[0] == "+" else moment + delta
        if moment.year < 1:
            raise ValueError("year out of range")
        return moment
    except (ValueError, OverflowError):
        raise DateError(f"{value[:40]!r} is not a valid calendar date-time") from None
