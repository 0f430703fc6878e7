"""Dates: `@D:` out, `@D:` or strict ISO 8601 in, everything else refused."""
from datetime import UTC, datetime

import pytest

from mockserver.core.dates import DateError, format_date, parse_date


@pytest.mark.parametrize("given,expected", [
    ("@D:2025-12-02T11:23:47", "@D:2025-12-02T11:23:47"),
    ("2025-12-02T11:23:47", "@D:2025-12-02T11:23:47"),
    ("2025-12-02T11:23:47Z", "@D:2025-12-02T11:23:47"),
    ("2025-12-02T11:23:47.999Z", "@D:2025-12-02T11:23:47"),
    ("2025-12-02T11:23:47+02:00", "@D:2025-12-02T09:23:47"),
    ("2025-12-02T01:23:47+02:00", "@D:2025-12-01T23:23:47"),
    ("2025-12-31T23:00:00-01:30", "@D:2026-01-01T00:30:00"),
    ("2024-02-29T00:00:00", "@D:2024-02-29T00:00:00"),
])
def test_accepted_forms_become_utc_emma_dates(given, expected):
    assert parse_date(given) == expected


@pytest.mark.parametrize("given", [
    "2025-12-02", "2025-12-02T11:23", "2025-12-02 11:23:47", "2025-12-02T11:23:47+0200", "20251202T112347Z",
    "@D:2025-12-02T11:23:47Z", "@D:2025-12-02", "2025-13-01T00:00:00", "2025-02-30T00:00:00",
    "2025-12-02T24:00:00", "2025-12-02T11:23:47+25:00", "", "yesterday", "٢٠٢٥-12-02T11:23:47",
    "0001-01-01T00:30:00+01:00", None, 1733138627, ["2025-12-02T11:23:47"],
])
def test_anything_else_is_refused(given):
    with pytest.raises(DateError):
        parse_date(given)


def test_format_drops_the_fraction_and_converts_to_utc():
    moment = datetime(2025, 12, 2, 11, 23, 47, 999999, tzinfo=UTC)
    assert format_date(moment) == "@D:2025-12-02T11:23:47"
    assert format_date(datetime(999, 1, 2, 3, 4, 5)) == "@D:0999-01-02T03:04:05"


def test_dates_in_requests_are_checked(client):
    response = client.post("/100/touchpoints/members", json={"touchpoints": [
        {"member_id": 444, "touchpoint_type_id": 300, "touchpoint_timestamp": "2025-12-02 11:23:47"}]})
    assert response.status_code == 400
    assert "touchpoint_timestamp" in response.json["error"]
