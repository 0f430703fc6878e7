"""The journal of API requests that `GET /__admin/requests` answers: bounded, oldest dropped."""
from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

from ..core import strict_json
from ..core.dates import format_date
from ..core.globs import glob_matches

BODY_LIMIT = 64 * 1024  # bodies above this are summarised, so the journal stays small
MASKED = "***"
_SENSITIVE_HEADERS = {"authorization", "proxy-authorization", "cookie", "x-admin-token"}


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

    def record(self, entry: dict[str, Any]) -> None:
        if isinstance(entry["body"], bytes) and len(entry["body"]) > BODY_LIMIT:
            entry["body"] = len(entry["body"])  # only its size is kept
        with self._lock:
            self._entries.append(entry)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def entries(self, filters: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
        """Entries matching every given filter: `method` (any case), `path` (exact or glob), `status`."""
        with self._lock:
            entries = [render(entry) for entry in self._entries]
        filters = filters or {}
        method = filters.get("method")
        path = filters.get("path")
        status = filters.get("status")
        if method:
            entries = [e for e in entries if e["method"] == method.upper()]
        if path:
            entries = [e for e in entries if e["path"] == path or glob_matches(e["path"], path)]
        if status:
            entries = [e for e in entries if str(e["status"]) == status]
        return entries


def render(entry: dict[str, Any]) -> dict[str, Any]:
    """The journal entry as `GET /__admin/requests` shows it, credentials masked."""
    parsed = parse_qs(entry["query"], keep_blank_values=True)
    headers = {}
    for key, value in entry["headers"]:
        name = key.removeprefix("HTTP_").replace("_", "-").title()
        headers[name] = MASKED if name.lower() in _SENSITIVE_HEADERS else value
    return {**entry,
            "query": {name: values[0] if len(values) == 1 else values for name, values in parsed.items()},
            "headers": headers, "body": _body(entry["body"]), "time": format_date(entry["time"])}


def _body(body: bytes | int) -> Any:
    if isinstance(body, int):
        return f"<body of {body} bytes, not recorded>"
    if not body:
        return None
    try:
        return strict_json.loads(body)
    except (ValueError, RecursionError):
        return body.decode("utf-8", errors="replace")
