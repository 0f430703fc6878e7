"""The session since the last reset, as far as the journal does not hold it: the controls that change answers.

A fault added or removed, the faults cleared, the rate limit set or removed, a
state loaded: each is noted with the id of the last journal entry before it, so
`GET /__admin/requests/export` can replay requests and controls in the order
they happened. The clock needs no note: a replay freezes it at each request's
recorded reading. Bounded like the journal: past its entry limit, or its
BYTE_BUDGET of control arguments (a fault's body may hold 64 KiB), the oldest
controls go (and the export says so); a loaded state is referenced, not
copied, and kept only up to STATE_RECORDS_LIMIT records in all.
"""
from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

from ..core.records import encode
from .journal import BYTE_BUDGET, Journal

STATE_RECORDS_LIMIT = 10_000  # records of loaded states the session keeps (it refers to them, no copy)


@dataclass(frozen=True)
class Control:
    """One control, as the plugin's helper that replays it: `emma_mock.<helper>(**arguments)`."""

    after: int  # the id of the journal's last entry when it happened
    helper: str  # add_fault, remove_fault, clear_faults, set_rate_limit, clear_rate_limit, load
    arguments: dict[str, Any]
    records: int = 0  # for `load`: the records its state holds (0 when the state was too large to keep)
    size: int = 0  # for the others: the bytes of its arguments as JSON


class Session:
    """The controls since the last reset, in order, and where the session's journal entries start."""

    def __init__(self, journal: Journal, from_file: bool = False):
        self._journal = journal
        self._lock = threading.Lock()
        self.controls: deque[Control] = deque()
        self.dropped = 0  # controls dropped past the limit since the last reset
        self.first_id = journal.latest_id + 1  # the first journal entry of the session
        self.from_file = from_file  # the session began from a --db file rather than the fixtures
        self._state_records = 0
        self._bytes = 0

    def restart(self) -> None:
        """A reset: the session starts again from the fixtures."""
        with self._lock:
            self.controls.clear()
            self.dropped = self._state_records = self._bytes = 0
            self.first_id = self._journal.latest_id + 1
            self.from_file = False

    def note(self, helper: str, arguments: dict[str, Any]) -> None:
        """Record a control that changes answers (called by faults, rate limit and store)."""
        records = size = 0
        if helper == "load":
            records = sum(len(collection) for collection in arguments["state"].values())
        else:
            size = len(encode(arguments))
        with self._lock:
            if records:
                if self._state_records + records > STATE_RECORDS_LIMIT:
                    arguments, records = {"state": None}, 0  # too large: the export says so
                self._state_records += records
            self._bytes += size
            self.controls.append(Control(self._journal.latest_id, helper, arguments, records, size))
            while len(self.controls) > max(self._journal.limit, 1) or (
                    self._bytes > BYTE_BUDGET and len(self.controls) > 1):
                dropped = self.controls.popleft()
                self._state_records -= dropped.records
                self._bytes -= dropped.size
                self.dropped += 1
