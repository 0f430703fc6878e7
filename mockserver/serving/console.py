"""The console log: one line per API request on standard output (the CLI's default; `--quiet` turns it off).

    2026-12-02T10:15:04Z  POST /100/touchpoints/members  200  3.1 ms
    2026-12-02T10:15:05Z  GET /100/touchpoints?count=true  503  0.2 ms  fault 2

Lines are formatted and written by a thread of their own from a bounded list,
so a console that nobody reads (a full pipe) never holds up an answer: past the
list's size lines are dropped and the count of dropped lines is written when
the console drains. The thread writes what has come in every 50 ms in one
write, so a server under load pays one system call per batch, not per request.
Credentials never appear (headers and bodies are not logged), control
characters in a path are escaped, so a request cannot forge lines, and spaces
are shown as %20, so a path cannot pad itself into what looks like a line.
"""
from __future__ import annotations

import io
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, TextIO

from ..core.terminal import terminal_safe

MAX_TARGET = 300  # characters of path and query shown; longer ones are cut with "…"
PENDING_LIMIT = 10_000  # lines waiting to be written; past it they are counted as dropped
FLUSH_SECONDS = 0.05  # how often the console's thread writes what has come in
SHOWN = ("method", "path", "query", "status", "duration_ms", "fault")  # an entry's fields a line shows, in order


def request_line(moment: str, method: str, path: str, query: str, status: int | None, duration_ms: float,
                 fault: int | None) -> str:
    """The console line of one journal entry's SHOWN fields, logged at `moment` (its text)."""
    target = path + (f"?{query}" if query else "")
    if not (target.isascii() and target.isprintable()) or "\\" in target:
        target = target.encode("unicode_escape").decode("ascii")  # no newline or escape sequence reaches the terminal
    if " " in target:  # as sent: a path cannot pad itself into what looks like a line of its own, or a status
        target = target.replace(" ", "%20")
    if len(target) > MAX_TARGET:
        target = target[:MAX_TARGET] + "…"
    outcome = str(status) if status is not None else "---"
    line = f"{moment}  {terminal_safe(method)} {target}  {outcome}  {duration_ms:.1f} ms"
    if fault is not None:
        line += f"  fault {fault}" if status is not None else f"  drop (fault {fault})"
    return line


class ConsoleLog:
    """Writes request lines to `stream` from a background thread; `log` never blocks.

    `log` only appends to a bounded list; the thread wakes every FLUSH_SECONDS (or when
    closed), formats what has come in and writes it at once. Nothing on the request path
    waits for or wakes the thread, which matters under load: a thread woken per request
    would contend with the server's threads for the interpreter on every answer.
    """

    def __init__(self, stream: TextIO | None = None):
        self._write_text = _writer(stream if stream is not None else sys.stdout)
        # (wall-clock time, the SHOWN fields): never an entry's bodies, so a stalled console holds little
        self._pending: deque[tuple[Any, ...]] = deque()
        self._dropped = 0
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._run, name="emma-mock-console", daemon=True)
        self._thread.start()

    def log(self, entry: dict[str, Any]) -> None:
        if len(self._pending) >= PENDING_LIMIT:
            self._dropped += 1
            return
        self._pending.append((time.time(), *map(entry.get, SHOWN)))

    def close(self) -> None:
        """Write what is pending, then end the writing thread (within a second)."""
        self._closed.set()
        self._thread.join(timeout=1)

    def _run(self) -> None:
        while True:
            closing = self._closed.wait(FLUSH_SECONDS)
            try:
                self._flush()
            except (OSError, ValueError):  # closed or broken console: nothing more to log
                return
            if closing:
                return

    def _flush(self) -> None:
        lines = []
        second, moment = -1, ""
        while self._pending:
            logged_at, *shown = self._pending.popleft()
            if int(logged_at) != second:  # a second's lines share its text
                second = int(logged_at)
                moment = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second))
            lines.append(request_line(moment, *shown))
        if self._dropped:
            dropped, self._dropped = self._dropped, 0
            lines.append(f"({dropped} request lines dropped: the console was not being read)")
        if lines:
            self._write_text("\n".join(lines) + "\n")


def _writer(stream: TextIO) -> Callable[[str], None]:
    """How the thread writes: to a copy of the stream's file descriptor when it has one, so that a
    write blocked on a full pipe nobody reads holds none of the stream's locks (the CLI's last line,
    `print`ed on the way out, would wait on them forever); else through the stream itself."""
    try:
        stream.flush()
        fd = os.dup(stream.fileno())
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        def through_stream(text: str) -> None:
            stream.write(text)
            stream.flush()
        return through_stream
    encoding = getattr(stream, "encoding", None) or "utf-8"

    def to_descriptor(text: str) -> None:
        data = text.encode(encoding, "replace")
        while data:
            data = data[os.write(fd, data):]
    return to_descriptor
