"""The journal of API requests that `GET /__admin/requests` answers: bounded, oldest dropped."""
from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping
from typing import Any


class Journal:
    """The last `limit` API requests, oldest first."""

    def __init__(self, limit: int = 1000):
        self.limit = limit
        self._entries: deque[dict[str, Any]] = deque(maxlen=limit)
        self._lock = threading.Lock()

    def record(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._entries.append(entry)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def entries(self, filters: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
        """Entries matching every given filter: `method` (any case), `path` (exact or glob), `status`."""
        from fnmatch import fnmatchcase

        with self._lock:
            entries = list(self._entries)
        filters = filters or {}
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
