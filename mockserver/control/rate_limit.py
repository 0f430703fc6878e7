"""The real API's rate limit, off until a test switches it on: N requests per S seconds per account."""
from __future__ import annotations

import math
import threading
import time
from collections import deque

MAX_WINDOW_SECONDS = 86_400  # `per_seconds` at most: a day
MAX_REQUESTS = 100_000  # per window: the window keeps a timestamp per admitted request


class RateLimiter:
    """A sliding window per account; a refused request is not counted."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: int | None = None
        self.per_seconds: float = 1.0
        self._windows: dict[int, deque[float]] = {}
        self.version = 0  # moves on every configure and disable

    def configure(self, requests: int, per_seconds: float) -> None:
        with self._lock:
            self.requests, self.per_seconds = requests, per_seconds
            self._windows.clear()
            self.version += 1

    def disable(self) -> None:
        with self._lock:
            self.requests = None
            self._windows.clear()
            self.version += 1

    def settings(self) -> dict[str, float] | None:
        if self.requests is None:
            return None
        return {"requests": self.requests, "per_seconds": self.per_seconds}

    def admit(self, account_id: int) -> float | None:
        """Count a request and return None, or refuse it and return the seconds to wait."""
        if self.requests is None:
            return None
        now = time.monotonic()
        with self._lock:
            if self.requests is None:
                return None
            window = self._windows.setdefault(account_id, deque())
            while window and window[0] <= now - self.per_seconds:
                window.popleft()
            if len(window) >= self.requests:
                return max(window[0] + self.per_seconds - now, 0.0) if window else self.per_seconds
            window.append(now)
            return None

    @staticmethod
    def retry_after(seconds: float) -> str:
        return str(max(1, math.ceil(seconds)))
