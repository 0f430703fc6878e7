"""The production WSGI server: waitress, taught two things a mock needs.

* A fault with `"action": "drop"` closes the connection without an answer:
  the front raises DropConnection and our task swallows it with nothing
  written, so the client sees the socket close. The server tells the mock's
  front so where it is handed the app (`Front.served_by`), with the sleep
  of a delay fault below.
* Waitress answers requests it cannot parse (overlong headers, bad chunking)
  itself, in text/plain; ours answers them as JSON `{"error": ...}` too.
* A body over its cap (core/limits.body_cap) is a 413 as soon as the
  headers are in, from Content-Length, before any of it is read; a chunked
  body is refused when the bytes received pass the cap.
* Bodies held at once are bounded: past SMALL_BODY bytes a body takes its
  size (declared, or received so far when chunked) from one budget of
  BODY_BUDGET bytes per server, given back when its request is done or its
  connection closes; a body that does not fit is a 503 with Retry-After, so
  many large or slow uploads cannot fill the memory or the disk (waitress
  spills large bodies to temporary files).
* A delay fault does not take a thread from the others: while its request
  sleeps the pool has one thread more (up to MAX_LENT_THREADS at once), so
  any number of delayed requests leaves every other client the threads it
  had.
* Many idle, slow or half-sent connections cannot lock clients out: the
  connection limit is high (the file-descriptor limit is raised to fit),
  idle connections close after CHANNEL_TIMEOUT seconds, and a request must
  arrive within REQUEST_TIMEOUT seconds plus its body at MIN_BODY_RATE, so
  trickling headers a byte at a time (slow-loris) does not hold a
  connection open: such a request is answered 408 and its connection closed.

Waitress was chosen by measurement (docs/decisions.md, "Choosing the WSGI server"):
pure Python, one process with a thread pool (the state lives in memory),
runs in a background thread of a test process, and stops cleanly.
"""
from __future__ import annotations

import logging
import resource
import threading
import time
from collections.abc import Callable

from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser, ParsingError
from waitress.server import BaseWSGIServer, create_server
from waitress.task import ErrorTask, ThreadedTaskDispatcher, WSGITask
from waitress.utilities import BadRequest, Error, RequestEntityTooLarge, RequestHeaderFieldsTooLarge

from ..core.errors import error_body
from ..core.limits import (
    MAX_BODY_BYTES,
    MAX_STATE_BYTES,
    MAX_TARGET_BYTES,
    body_cap,
    target_too_long_message,
    too_large_message,
)
from .front import DropConnection, Front, WSGIApp
from .healthcheck import probe_host

# waitress warns "Task queue depth is N" whenever every thread is busy: in a load test or a user's script
# that is noise on stderr (Python's last-resort handler prints it), not a fault of the mock.
logging.getLogger("waitress.queue").setLevel(logging.ERROR)

ACCEPT_BATCH = 64  # connections accepted per wake-up (waitress takes one per pass over all sockets)
CONNECTION_LIMIT = 4000  # open connections before waitress stops accepting (its default is 100)
CHANNEL_TIMEOUT = 15  # seconds an idle connection, or one whose request stopped arriving, stays open
CLEANUP_INTERVAL = 2  # seconds between waitress's sweeps for idle connections
REQUEST_TIMEOUT = 10.0  # seconds for a request's line and headers to arrive, whatever the pace
MIN_BODY_RATE = 64 * 1024  # bytes per second a body must arrive at, beyond REQUEST_TIMEOUT
_FDS_PER_CONNECTION = 2  # the socket, and a temporary file for a large body
_FDS_SPARE = 256  # fixture and --db files, logs, the trigger pipe, a test's own sockets
MAX_LENT_THREADS = 256  # delayed requests sleeping on a thread lent to the pool; past it they sleep on their own
SMALL_BODY = 64 * 1024  # a body up to this size needs no budget (CONNECTION_LIMIT of them is 250 MiB at most)
BODY_BUDGET = MAX_STATE_BYTES + 32 * MAX_BODY_BYTES  # bytes of larger bodies held at once, in memory or on disk
RETRY_AFTER_SECONDS = 5  # what a body refused for want of budget is told


class _BodyBudget:
    """The bytes of request bodies one server holds at once (see SMALL_BODY and BODY_BUDGET)."""

    def __init__(self, limit: int):
        self.limit = limit
        self.held = 0
        self._lock = threading.Lock()

    def take(self, size: int) -> bool:
        with self._lock:
            if self.held + size > self.limit:
                return False
            self.held += size
            return True

    def give(self, size: int) -> None:
        with self._lock:
            self.held -= size


class ServerBusy(Error):
    code = 503
    reason = "Service Unavailable"


class _LendingSleep:
    """A delay fault's sleep (`Front.sleep`): the pool gets a thread more while it lasts."""

    def __init__(self, threads: int):
        self.dispatcher: ThreadedTaskDispatcher | None = None  # the pool's, once the server is made
        self._threads = threads
        self._lent = 0
        self._closed = False
        self._lock = threading.Lock()

    def __call__(self, seconds: float) -> None:
        with self._lock:
            dispatcher = self.dispatcher
            lend = dispatcher is not None and not self._closed and self._lent < MAX_LENT_THREADS
            if dispatcher is not None and lend:
                self._lent += 1
                try:
                    dispatcher.set_thread_count(self._threads + self._lent)
                except RuntimeError:  # the system has no thread to give ("can't start new thread"):
                    self._lent -= 1   # this delay sleeps on its own thread, as it would without lending
                    lend = False
        try:
            time.sleep(seconds)
        finally:
            if dispatcher is not None and lend:
                with self._lock:
                    self._lent -= 1
                    if not self._closed:  # a stopped pool must not get threads back
                        dispatcher.set_thread_count(self._threads + self._lent)

    def close(self) -> None:
        with self._lock:
            self._closed = True


class _Task(WSGITask):
    def execute(self) -> None:
        try:
            super().execute()
        except DropConnection:
            self.close_on_finish = True
            self.wrote_header = True  # nothing may be written: the client sees the connection close


class _JSONErrorTask(ErrorTask):
    def execute(self) -> None:
        error = self.request.error
        body = error_body(f"{error.reason}: {error.body}")
        self.status = f"{error.code} {error.reason}"
        self.response_headers.append(("Content-Type", "application/json"))
        if isinstance(error, ServerBusy):
            self.response_headers.append(("Retry-After", str(RETRY_AFTER_SECONDS)))
        self.set_close_on_finish()
        self.content_length = len(body)
        # A HEAD answer never carries a body, not even an error's (its Content-Length still says how long)
        self.write(b"" if self.request.is_head() else body)


class _URITooLong(BadRequest):
    code = 414
    reason = "URI Too Long"


class _Parser(HTTPRequestParser):
    """Waitress's parser, refusing a body over its endpoint's cap, or over what the server's budget has
    left, as soon as that is known."""

    error: Exception | None  # set by waitress when the request cannot be served
    started = b""  # the request's first bytes, as sent (up to its method)
    budgeted = 0  # bytes of this body taken from the server's budget

    def __init__(self, adj: object, budget: _BodyBudget):
        super().__init__(adj)
        self.budget = budget

    def is_head(self) -> bool:
        """Read from the bytes sent, as waitress reads a method (leading whitespace skipped, case kept):
        refusing overlong headers (431), waitress parses a made-up `GET /` instead."""
        return self.started.lstrip().partition(b" ")[0] == b"HEAD"

    def _target_too_long(self, data: bytes) -> bool:
        """Whether headers too large for waitress (its 431) are in fact a request target over 8 KiB (414)."""
        first_line = (self.header_plus + data).lstrip().split(b"\n", 1)[0]
        target = first_line.split(b" ", 2)[1:2]
        return bool(target) and len(target[0]) > MAX_TARGET_BYTES

    def parse_header(self, header_plus: bytes) -> None:
        try:
            super().parse_header(header_plus)
        except ValueError:  # int() of a Content-Length of thousands of digits; waitress let it escape
            raise ParsingError("Content-Length is invalid") from None

    def received(self, data: bytes) -> int:
        if len(self.started.lstrip()) < 5 and len(self.started) < 4096:  # "HEAD " after any leading whitespace
            self.started += bytes(data[:4096 - len(self.started)])
        consumed: int = super().received(data)
        if isinstance(self.error, RequestHeaderFieldsTooLarge) and self._target_too_long(data):
            self.error = _URITooLong(target_too_long_message())
        too_large = self.error is None or isinstance(self.error, RequestEntityTooLarge)  # ours names the cap
        if too_large and self.headers_finished and not self.empty:
            size = self.body_bytes_received if self.chunked else self.content_length
            cap = body_cap(self.command or "GET", self.path or "/")
            if size > cap:
                self._refuse(RequestEntityTooLarge(too_large_message(size, cap)))
            elif size > SMALL_BODY and size > self.budgeted:
                if self.budget.take(size - self.budgeted):
                    self.budgeted = size
                else:
                    self._refuse(ServerBusy(
                        f"the server holds as many request bodies as it takes at once ({self.budget.limit} bytes); "
                        f"retry in {RETRY_AFTER_SECONDS} seconds"))
        return consumed

    def _refuse(self, error: Error) -> None:
        self.error = error
        self.expect_continue = False  # no "100 Continue": the body is not wanted
        self.completed = True

    def close(self) -> None:
        """The request is done (or its connection closed): its body's bytes go back to the budget."""
        super().close()
        budgeted, self.budgeted = self.budgeted, 0
        if budgeted:
            self.budget.give(budgeted)


class _Channel(HTTPChannel):
    task_class = _Task
    error_task_class = _JSONErrorTask
    _request_started: float | None = None  # when the first byte of the request being read came
    request: _Parser | None = None  # the request being read (waitress's attribute)

    def parser_class(self, adj: object) -> _Parser:  # waitress calls self.parser_class(self.adj)
        return _Parser(adj, self.server.body_budget)

    def handle_close(self) -> None:
        """A request still being read when its connection closes gives its body (buffer, budget) back."""
        request, self.request = self.request, None
        if request is not None:
            request.close()
        super().handle_close()

    def received(self, data: bytes) -> bool:
        if self.request is None and data:
            self._request_started = time.monotonic()
        result: bool = super().received(data)
        if self.request is None:
            self._request_started = None  # nothing half-read: the idle timeout applies
        return result

    def readable(self) -> bool:
        if self._overdue():
            self._time_out()
            return False
        return bool(super().readable())

    def _time_out(self) -> None:
        """Answer a request that stopped arriving with 408 and close (the loop flushes, then closes)."""
        request, self.request = self.request, None
        assert request is not None
        body = error_body("the request took too long to arrive: send its headers within "
                          f"{REQUEST_TIMEOUT:g} seconds and its body at {MIN_BODY_RATE // 1024} KiB/s or faster")
        head = (f"HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
        answer = head + (b"" if request.is_head() else body)
        request.close()
        with self.outbuf_lock:
            self.outbufs[-1].append(answer)
            self.current_outbuf_count += len(answer)
            self.total_outbufs_len += len(answer)
        self.close_when_flushed = True

    def _overdue(self) -> bool:
        """Whether the request being read has taken longer than its headers and body deserve."""
        request, started = self.request, self._request_started
        if request is None or started is None:
            return False
        if self.requests:  # an earlier request is being answered: the clock starts when it is done
            self._request_started = time.monotonic()
            return False
        expected = max(request.content_length, request.body_bytes_received)
        return bool(time.monotonic() - started > REQUEST_TIMEOUT + expected / MIN_BODY_RATE)


def _as_served(app: WSGIApp, sleep: Callable[[float], None]) -> WSGIApp:
    """What waitress calls: the mock's front told that this server drops connections and lends a thread
    to each sleeping delay (Flask's `app(...)` only calls `app.wsgi_app(...)`); any other app as it is."""
    front = getattr(app, "wsgi_app", None)
    return front.served_by(can_drop=True, sleep=sleep) if isinstance(front, Front) else app


def _accepting_many(listener: BaseWSGIServer) -> Callable[[], None]:
    """The listener's accept, repeated while connections wait: a burst of them is taken in
    a few passes of the loop, where one per pass costs a pass over every open socket each."""
    accept_one = listener.handle_accept

    def handle_accept() -> None:
        for _ in range(ACCEPT_BATCH):
            before = len(listener._map)
            accept_one()
            if len(listener._map) == before or len(listener._map) >= listener.adj.connection_limit:
                return  # none waiting (or a socket error, logged by waitress), or the limit is reached

    return handle_accept


def _connection_limit() -> int:
    """CONNECTION_LIMIT, after raising the soft file-descriptor limit toward the hard one to fit it."""
    wanted = CONNECTION_LIMIT * _FDS_PER_CONNECTION + _FDS_SPARE
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft != resource.RLIM_INFINITY and soft < wanted:
            target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
    except (ValueError, OSError):
        return 100  # waitress's default: a platform that does not let us look
    if soft == resource.RLIM_INFINITY:
        return CONNECTION_LIMIT
    return max(100, min(CONNECTION_LIMIT, (soft - _FDS_SPARE) // _FDS_PER_CONNECTION))


class Server:
    """A bound waitress server: `url` is known before `serve_forever()`; `stop()` from any thread."""

    def __init__(self, app: WSGIApp, host: str = "127.0.0.1", port: int = 8080, threads: int = 8):
        self._sleep = _LendingSleep(threads)
        self._server = create_server(_as_served(app, self._sleep), host=host, port=port, threads=threads,
                                     ident="emma-mock", clear_untrusted_proxy_headers=True, expose_tracebacks=False,
                                     channel_timeout=CHANNEL_TIMEOUT, cleanup_interval=CLEANUP_INTERVAL,
                                     connection_limit=_connection_limit(), asyncore_use_poll=True,
                                     max_request_body_size=MAX_STATE_BYTES + 1)
        self._listeners = ([self._server] if isinstance(self._server, BaseWSGIServer) else
                           [d for d in self._server.map.values() if isinstance(d, BaseWSGIServer)])
        self._sleep.dispatcher = self._listeners[0].task_dispatcher  # the listeners share one pool
        self.body_budget = _BodyBudget(BODY_BUDGET)
        for listener in self._listeners:
            listener.channel_class = _Channel
            listener.handle_accept = _accepting_many(listener)
            listener.body_budget = self.body_budget
        self._serving = self._stopping = False

    @property
    def port(self) -> int:
        port: int = self._listeners[0].socket.getsockname()[1]
        return port

    @property
    def url(self) -> str:
        host = probe_host(self._listeners[0].socket.getsockname()[0])  # every interface: this machine's
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    def serve_forever(self) -> None:
        """Serve until stop() (or KeyboardInterrupt in this thread)."""
        self._serving = True
        try:
            self._server.run()
        except (OSError, ValueError):
            # stop() closes sockets from another thread; a poll on a socket closed
            # under it may fail once on the way out. Anything else is a real error.
            if not self._stopping:
                raise
        finally:
            self._serving = False

    def stop(self) -> None:
        """Close the listening sockets and open connections and end the worker threads."""
        self._stopping = True
        listener = self._listeners[0]
        # waitress has no stop: its loop ends when its socket map is empty, and the map is reached only
        # through the private `_map` (tests/test_dependencies.py checks it is there). This module is the one
        # that depends on waitress's internals.
        socket_map = listener._map
        closed = threading.Event()

        def close_all() -> None:
            for dispatcher in list(socket_map.values()):
                try:
                    dispatcher.close()
                except Exception:
                    pass
            socket_map.clear()  # the serving loop ends when its map is empty
            closed.set()

        if self._serving:
            try:
                listener.trigger.pull_trigger(close_all)  # runs in the loop's own thread, which then ends at once
            except OSError:
                pass  # a wake-up from a worker ran close_all (closing this trigger) before our byte was written
            closed.wait(5)
        if not closed.is_set():
            close_all()
        self._sleep.close()
        listener.task_dispatcher.shutdown(cancel_pending=True, timeout=5)
