"""The real API's rate limit, off until a test switches it on: N requests per S seconds per account.

The window is counted on the mock's clock (each request's one reading, in whole
seconds), not on real time: a test moves past it with `advance_seconds` instead
of sleeping, and a replay frozen at each request's recorded time decides as the
recorded session did.

A request can be counted after others that read the clock later (a delay fault
held it, or another thread won the race at a second's turn): every admitted
reading counts until the clock is `per_seconds` past it, so the limit holds
whatever the order (for a request held up to a whole window: readings are kept
for two). That is also why setting the clock back forgets no counted request
(of the last two windows: older readings are dropped as requests come in): the
session export replays a request held that way by freezing the clock back to its
reading, and must decide as the session did. A test that sets the clock back and
wants a fresh window sets the rate limit again (or resets).
"""
from __future__ import annotations

import bisect
import math
import threading

from ..core.records import Recorder

MAX_WINDOW_SECONDS = 86_400  # `per_seconds` at most: a day
MAX_REQUESTS = 100_000  # per window: the window keeps a timestamp per admitted request (for two windows)


class RateLimiter:
    """A sliding window per account on the mock's clock; a refused request is not counted."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: int | None = None
        self.per_seconds: float = 1.0
        self._windows: dict[int, list[float]] = {}  # the readings of admitted requests, sorted
        self.version = 0  # moves on every configure and disable
        self.recorder: Recorder | None = None  # told of each configure and disable

    def configure(self, requests: int, per_seconds: float) -> None:
        with self._lock:
            self.requests, self.per_seconds = requests, per_seconds
            self._windows.clear()
            self.version += 1
        if self.recorder is not None:
            self.recorder("set_rate_limit", {"requests": requests, "per_seconds": per_seconds})

    def disable(self) -> None:
        with self._lock:
            self.requests = None
            self._windows.clear()
            self.version += 1
        if self.recorder is not None:
            self.recorder("clear_rate_limit", {})

    def settings(self) -> dict[str, float] | None:
        if self.requests is None:
            return None
        return {"requests": self.requests, "per_seconds": self.per_seconds}

    def admit(self, account_id: int, now: float) -> float | None:
        """Count a request read at `now` (seconds on the mock's clock) and return None, or refuse it and
        return the seconds to wait.

        The window is every admitted reading later than now - per_seconds, later than now included.
        """
        if self.requests is None:
            return None
        with self._lock:
            if self.requests is None:
                return None
            window = self._windows.setdefault(account_id, [])
            # Kept for two windows: a request held for up to a whole window still finds every reading of its own.
            del window[:bisect.bisect_right(window, now - 2 * self.per_seconds)]
            counted = len(window) - bisect.bisect_right(window, now - self.per_seconds)
            if counted >= self.requests:  # the wait: until enough of the oldest counted have left the window
                return max(window[len(window) - self.requests] + self.per_seconds - now, 0.0)
            bisect.insort(window, now)
            return None

    @staticmethod
    def retry_after(seconds: float) -> str:
        return str(max(1, math.ceil(seconds)))
