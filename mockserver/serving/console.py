"""The console log: one line per API request on standard output (the CLI's default; `--quiet` turns it off).

    2026-12-02T10:15:04Z  POST /100/touchpoints/members  200  3.1 ms
    2026-12-02T10:15:05Z  GET /100/touchpoints?count=true  503  0.2 ms  fault 2

Lines are formatted and written by a thread of their own from a bounded queue,
so a console that nobody reads (a full pipe) never holds up an answer: past the
queue's size lines are dropped and the count of dropped lines is written when
the console drains. The thread writes what has queued up in one write, so a
server under load pays one system call per batch, not per request. Credentials never appear (headers and bodies are not logged),
and control characters in a path are escaped, so a request cannot forge lines.
"""
from __future__ import annotations

import queue
import sys
import threading
import time
from datetime import UTC, datetime
from typing import Any, TextIO

MAX_TARGET = 300  # characters of path and query shown; longer ones are cut with "…"
QUEUE_SIZE = 10_000
BATCH_LINES = 500  # lines written at once at most
_SHOWN = ("method", "path", "query", "status", "duration_ms", "fault")  # what request_line reads


def request_line(entry: dict[str, Any], logged_at: datetime | None = None) -> str:
    """The console line of one journal entry (as the control layer records it)."""
    moment = (logged_at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    target = entry["path"] + (f"?{entry['query']}" if entry.get("query") else "")
    target = target.encode("unicode_escape").decode("ascii")  # no newline or escape sequence reaches the terminal
    if len(target) > MAX_TARGET:
        target = target[:MAX_TARGET] + "…"
    status = entry.get("status")
    outcome = str(status) if status is not None else "---"
    line = f"{moment}  {entry['method']} {target}  {outcome}  {entry['duration_ms']:.1f} ms"
    if entry.get("fault") is not None:
        line += f"  fault {entry['fault']}" if status is not None else f"  drop (fault {entry['fault']})"
    return line


class ConsoleLog:
    """Writes request lines to `stream` from a background thread; `log` never blocks."""

    def __init__(self, stream: TextIO | None = None):
        self._stream = stream if stream is not None else sys.stdout
        # (wall-clock time, the entry's fields a line shows): never its bodies, so a stalled console holds little
        self._entries: queue.Queue[tuple[float, dict[str, Any]] | None] = queue.Queue(QUEUE_SIZE)
        self._dropped = 0
        self._thread = threading.Thread(target=self._write, name="emma-mock-console", daemon=True)
        self._thread.start()

    def log(self, entry: dict[str, Any]) -> None:
        try:
            self._entries.put_nowait((time.time(), {key: entry.get(key) for key in _SHOWN}))
        except queue.Full:
            self._dropped += 1

    def close(self) -> None:
        """Write what is queued, then end the writing thread (within a second)."""
        try:
            self._entries.put(None, timeout=1)
        except queue.Full:
            pass  # a console nobody reads: the daemon thread ends with the process
        self._thread.join(timeout=1)

    def _write(self) -> None:
        while True:
            item = self._entries.get()
            batch: list[str] = []
            while item is not None:
                logged_at, entry = item
                batch.append(request_line(entry, datetime.fromtimestamp(logged_at, UTC)))
                if len(batch) >= BATCH_LINES:
                    break
                try:
                    item = self._entries.get_nowait()
                except queue.Empty:
                    break
            if self._dropped and self._entries.empty():
                dropped, self._dropped = self._dropped, 0
                batch.append(f"({dropped} request lines dropped: the console was not being read)")
            try:
                if batch:
                    self._stream.write("\n".join(batch) + "\n")
                    self._stream.flush()
            except (OSError, ValueError):  # closed or broken console: nothing more to log
                return
            if item is None:
                return
