"""The journal of API requests that `GET /__admin/requests` answers: bounded, oldest dropped."""
from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Mapping
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import parse_qs

from ..core import strict_json
from ..core.dates import format_date
from ..core.errors import BadRequest

BODY_LIMIT = 64 * 1024  # bodies above this are summarised, so the journal stays small
MASKED = "***"
_SENSITIVE_HEADERS = {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-admin-token"}


class Journal:
    """The last `limit` API requests, oldest first.

    `record` takes the request as the control layer saw it (query string,
    environ header pairs, body bytes, datetime) and costs next to nothing; the
    JSON shape is made only when the journal is read.
    """

    def __init__(self, limit: int = 1000):
        self.limit = limit
        self._entries: deque[dict[str, Any]] = deque(maxlen=limit)
        self._lock = threading.Lock()
        self._ids = itertools.count(1)  # never restarted, so `after` keeps working across clears
        self.latest_id = 0
        self.cleared = 0  # how many times the journal was emptied (the dashboard reloads it then)

    def record(self, entry: dict[str, Any]) -> None:
        """Keep one request; each gets the next `id`, and bodies over BODY_LIMIT keep only their size."""
        for key in ("body", "response_body"):
            if isinstance(entry.get(key), bytes) and len(entry[key]) > BODY_LIMIT:
                entry[key] = len(entry[key])  # only its size is kept
        with self._lock:
            entry["id"] = self.latest_id = next(self._ids)
            self._entries.append(entry)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.cleared += 1

    def entries(self, filters: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
        """Entries matching every given filter: `method` (any case), `path` (exact or glob), `status`,
        `after` (only entries whose id is above it; a non-integer is a BadRequest)."""
        filters = filters or {}
        after = _after(filters.get("after"))
        with self._lock:
            entries = [render(entry) for entry in self._entries if entry["id"] > after]
        method = filters.get("method")
        path = filters.get("path")
        status = filters.get("status")
        if method:
            entries = [e for e in entries if e["method"] == method.upper()]
        if path:
            entries = [e for e in entries if e["path"] == path or fnmatchcase(e["path"], path)]
        if status:
            entries = [e for e in entries if str(e["status"]) == status]
        return entries


def _after(value: str | None) -> int:
    if value is None or value == "":
        return 0
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        raise BadRequest("'after' must be a journal entry id (a non-negative integer)")
    return int(value)


def _masked(headers: Any) -> dict[str, str]:
    shown = {}
    for name, value in headers:
        shown[name] = MASKED if name.lower() in _SENSITIVE_HEADERS else value
    return shown


def render(entry: dict[str, Any]) -> dict[str, Any]:
    """The journal entry as `GET /__admin/requests` shows it, credentials masked."""
    parsed = parse_qs(entry["query"], keep_blank_values=True)
    request_headers = [(key.removeprefix("HTTP_").replace("_", "-").title(), value)
                       for key, value in entry["headers"]]
    return {**entry,
            "query": {name: values[0] if len(values) == 1 else values for name, values in parsed.items()},
            "headers": _masked(request_headers), "body": _body(entry["body"]), "time": format_date(entry["time"]),
            "response_headers": _masked(entry.get("response_headers") or ()),
            "response_body": _body(entry.get("response_body")), "fault": entry.get("fault")}


def _body(body: bytes | int | None) -> Any:
    if isinstance(body, int):
        return f"<body of {body} bytes, not recorded>"
    if not body:
        return None
    try:
        return strict_json.loads(body)
    except (ValueError, RecursionError):
        return body.decode("utf-8", errors="replace")
