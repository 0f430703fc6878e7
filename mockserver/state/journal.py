"""The journal of API requests that `GET /__admin/requests` answers: bounded, oldest dropped.

Bounded in entries and in bytes: what a client controls (path, query, headers,
body) is cut to a limit when recorded, the entry then naming what was cut in
`"cut"`, and the whole journal keeps at most BYTE_BUDGET bytes of them.
"""
from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

from ..core import strict_json
from ..core.dates import format_date
from ..core.errors import BadRequest
from ..core.globs import glob_matches
from ..core.ids import MAX_ID_DIGITS

BODY_LIMIT = 64 * 1024  # bodies above this are summarised, so the journal stays small
METHOD_LIMIT = 32  # characters of the method kept
PATH_LIMIT = 2048  # characters of the path kept
QUERY_LIMIT = 4096  # characters of the query string kept (cut at a parameter boundary)
HEADER_COUNT_LIMIT = 64  # headers kept, in the order sent
HEADER_NAME_LIMIT = 256  # characters of a header name kept
HEADER_VALUE_LIMIT = 1024  # characters of a header value kept
BYTE_BUDGET = 8 * 2**20  # the whole journal; the oldest entries go first
_ENTRY_OVERHEAD = 256  # method, status, time, duration and the dict itself
MASKED = "***"
# An entry's "credentials" (kept for the session export, not shown): whose keys authentication saw,
# an account id or one of these, never the keys themselves.
WRONG_KEYS = "wrong"  # keys that are no account's
NO_KEYS = "none"  # no credentials, or none that could be read
_FOR_THE_EXPORT = ("credentials", "arrived")  # an entry's fields the journal keeps but does not show
_SENSITIVE_HEADERS = {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-admin-token"}


class Journal:
    """The last `limit` API requests, oldest first.

    `record` takes the request as the front saw it (query string,
    environ header pairs, body bytes, datetime) and costs next to nothing; the
    JSON shape is made only when the journal is read.
    """

    def __init__(self, limit: int = 1000):
        self.limit = limit
        self._entries: deque[dict[str, Any]] = deque()
        self._sizes: deque[int] = deque()  # the bytes each entry holds, for BYTE_BUDGET
        self._bytes = 0
        self._lock = threading.Lock()
        self._ids = itertools.count(1)  # never restarted, so `after` keeps working across clears
        self._arrivals = itertools.count(1)  # the order requests came in (ids are the order they were answered)
        self.latest_id = 0
        self.cleared = 0  # how many times the journal was emptied (the dashboard reloads it then)

    def arrived(self) -> int:
        """The next request's place in the order requests came in (its entry's "arrived", not shown)."""
        return next(self._arrivals)

    def record(self, entry: dict[str, Any]) -> None:
        """Keep one request, cut to its limits; each gets the next `id` (see `after`)."""
        size = _cut(entry)
        with self._lock:
            entry["id"] = self.latest_id = next(self._ids)
            self._entries.append(entry)
            self._sizes.append(size)
            self._bytes += size
            while len(self._entries) > max(self.limit, 1) or (self._bytes > BYTE_BUDGET and len(self._entries) > 1):
                self._entries.popleft()
                self._bytes -= self._sizes.popleft()

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._sizes.clear()
            self._bytes = 0
            self.cleared += 1

    def raw_entries(self, after: int = 0) -> list[dict[str, Any]]:
        """The entries as recorded (for the session export), those whose id is above `after`."""
        with self._lock:
            return [entry for entry in self._entries if entry["id"] > after]

    def entries(self, filters: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
        """Entries matching every given filter: `method` (any case), `path` (exact or glob), `status`,
        `after` (only entries whose id is above it; a non-integer is a BadRequest).

        Only the copy of the list is made under the lock that `record` needs; the
        filtering and rendering happen outside it.
        """
        filters = filters or {}
        after = entry_id(filters.get("after"), "after") or 0
        method = filters.get("method")
        path = filters.get("path")
        status = filters.get("status")
        with self._lock:
            entries = list(self._entries)
        if after:
            entries = [e for e in entries if e["id"] > after]
        if method:
            entries = [e for e in entries if e["method"] == method.upper()]
        if path:
            entries = [e for e in entries if e["path"] == path or glob_matches(e["path"], path)]
        if status:
            entries = [e for e in entries if str(e["status"]) == status]
        return [render(entry) for entry in entries]


def _cut(entry: dict[str, Any]) -> int:
    """Cut what the client controls to its limit, naming the cut fields in `cut`; the bytes kept."""
    cut = []
    if len(entry["method"]) > METHOD_LIMIT:
        entry["method"] = entry["method"][:METHOD_LIMIT]
        cut.append("method")
    if len(entry["path"]) > PATH_LIMIT:
        entry["path"] = entry["path"][:PATH_LIMIT]
        cut.append("path")
    query = entry["query"]
    if len(query) > QUERY_LIMIT:
        query = query[:QUERY_LIMIT]
        entry["query"] = query[:query.rfind("&")] if "&" in query else query  # no half parameter
        cut.append("query")
    headers = entry["headers"]
    header_bytes = sum([len(name) + len(value) for name, value in headers])
    # (all of them in fewer bytes than either limit: none is over its limit, the usual request)
    if len(headers) > HEADER_COUNT_LIMIT or (header_bytes > min(HEADER_NAME_LIMIT, HEADER_VALUE_LIMIT) and any(
            len(name) > HEADER_NAME_LIMIT or len(value) > HEADER_VALUE_LIMIT for name, value in headers)):
        entry["headers"] = headers = [(name[:HEADER_NAME_LIMIT], value[:HEADER_VALUE_LIMIT])
                                      for name, value in headers[:HEADER_COUNT_LIMIT]]
        header_bytes = sum([len(name) + len(value) for name, value in headers])
        cut.append("headers")
    size = _ENTRY_OVERHEAD + len(entry["path"]) + len(entry["query"]) + header_bytes
    for key in ("body", "response_body"):
        body = entry.get(key)
        if isinstance(body, bytes):
            if len(body) <= BODY_LIMIT:
                size += len(body)
                continue
            entry[key] = body = len(body)  # only its size is kept
        if isinstance(body, int):
            cut.append(key)
    size += sum([len(name) + len(value) for name, value in entry.get("response_headers") or ()])
    if cut:
        entry["cut"] = cut
    return size


def entry_id(value: str | None, name: str) -> int | None:
    """A query parameter naming a journal entry (`after`, `until`): its id, None when absent; a
    BadRequest naming the parameter when it is no id."""
    if value is None or value == "":
        return None
    if not value.isascii() or not value.isdigit() or len(value) > MAX_ID_DIGITS:
        raise BadRequest(f"'{name}' must be a journal entry id (a non-negative integer)")
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
    public = {key: value for key, value in entry.items() if key not in _FOR_THE_EXPORT}
    return {**public,
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
