"""The mock's notion of "now": real time, or frozen and moved by the control API."""
from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

MAX_ADVANCE_SECONDS = 1e10  # `advance_seconds` at most: ~317 years, far inside year 9999


class Clock:
    """Real UTC time unless frozen, read in whole seconds; every created/inserted date comes from here.

    Whole seconds because every date the API answers has no fraction, and a
    request's one reading is what its journal entry, its dates and the rate
    limit all use: a replay frozen at the journal's `time` then sees the very
    reading the request saw.
    """

    def __init__(self) -> None:
        self._frozen: datetime | None = None
        self._lock = threading.Lock()
        self.version = 0  # moves on every freeze, advance and unfreeze

    def now(self) -> datetime:
        frozen = self._frozen
        if frozen is not None:
            return frozen.replace(microsecond=0)
        return datetime.fromtimestamp(int(time.time()), UTC)  # (a third of what now().replace() costs)

    @property
    def frozen(self) -> bool:
        return self._frozen is not None

    def freeze(self, moment: datetime) -> None:
        with self._lock:
            self._frozen = moment.astimezone(UTC)
            self.version += 1

    def advance(self, seconds: float) -> None:
        """Move "now" forward, freezing it at real now + seconds when it was running."""
        with self._lock:
            running = self._frozen if self._frozen is not None else datetime.now(UTC)
            self._frozen = running + timedelta(seconds=seconds)
            self.version += 1

    def unfreeze(self) -> None:
        with self._lock:
            self._frozen = None
            self.version += 1
