"""The WSGI layer in front of the Flask app: trailing slashes, faults, authentication, the journal.

It sees every API request as the client sent it: faults fire first (before
authentication), then authentication and the rate limit (before Flask
routes the request, so 401/403 come before 404/405/400), and the journal
records what came in and what went out (status, headers, body, the fault that
answered or delayed it), with the injected delay in the duration.
`/__admin` requests and the dashboard (`/`, `/__dashboard/...`) pass straight
through and are not journaled.

Before all of that, on every path: a request target over 8 KiB is a 414, and
a Host name or a cross-origin write that `browser_rules` refuses is a 403.
"""
from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ..core.errors import ApiError, error_body
from ..core.ids import account_in_path
from ..core.limits import MAX_BODY_BYTES, MAX_TARGET_BYTES, body_cap, target_too_long_message, too_large_message
from ..wire import NOW
from . import browser_rules
from .auth import admit, identify
from .console import ConsoleLog

if TYPE_CHECKING:
    from ..state.mock import Mock

ADMIN_PREFIX = "/__admin"
DASHBOARD_PREFIX = "/__dashboard"
_HEADER_KEYS = ("HTTP_", "CONTENT_TYPE", "CONTENT_LENGTH")  # the environ keys of request headers

StartResponse = Callable[..., Any]
Environ = dict[str, Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]


class DropConnection(Exception):
    """Raised to the WSGI server to close the connection without an answer (see server.py)."""


Answer = tuple[str, list[tuple[str, str]], bytes]  # status line, headers, body


def _json_answer(status: int, body: bytes) -> Answer:
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:  # a fault may answer any status from 200 to 599
        reason = "Error"
    if status in (204, 304):  # these never carry a body: a fault answering one sends headers only
        return f"{status} {reason}", [], b""
    return f"{status} {reason}", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))], body


class Front:
    """Wraps the Flask app of one mock: faults, authentication and the journal come from it."""

    def __init__(self, app: WSGIApp, mock: Mock, console: ConsoleLog | None = None):
        self.app = app
        self.mock = mock
        self.console = console
        self.allowed_hosts = frozenset(mock.config.allowed_hosts)

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        refused = _refused(environ, self.allowed_hosts)
        if refused is not None:  # before anything reads the path: no fault, journal or route sees it
            start_response(refused[0], refused[1])
            return [] if environ.get("REQUEST_METHOD", "").upper() == "HEAD" else [refused[2]]
        raw_path = environ.get("PATH_INFO") or "/"
        if (len(raw_path) > 1 and raw_path[-1] == "/") or raw_path[:2] == "//" or raw_path[0] != "/":
            # One path for every layer: werkzeug routes `//100/x` as `/100/x` (it strips leading
            # slashes), so authentication, faults and the journal must read it so too; a trailing
            # slash is accepted.
            environ["PATH_INFO"] = raw_path = "/" + raw_path.strip("/")
        # The path as Flask routes it (WSGI hands it over as latin-1), so faults, the journal and
        # authentication see the same characters the routes do.
        path = raw_path if raw_path.isascii() else raw_path.encode("latin-1", "replace").decode("utf-8", "replace")
        if is_control_path(path):
            refusal = _too_large(environ, path)
            if refusal is not None:
                start_response(*refusal[:2])
                answer: Iterable[bytes] = [refusal[2]]
            else:
                answer = self.app(environ, start_response)
        else:
            answer = self._api(environ, start_response, path)
        if environ.get("REQUEST_METHOD", "").upper() == "HEAD":
            return _headers_only(answer)
        return answer

    def _api(self, environ: Environ, start_response: StartResponse, path: str) -> Iterable[bytes]:
        started = time.perf_counter()
        method = environ.get("REQUEST_METHOD", "GET").upper()
        # The request's one clock reading: its journal `time`, its rate-limit count and every date it makes.
        environ[NOW] = now = self.mock.clock.now()
        # The journal keeps the raw request; it renders headers, query and body only when read.
        entry = {"method": method, "path": path, "query": environ.get("QUERY_STRING", ""),
                 "headers": [(k, v) for k, v in environ.items() if k.startswith(_HEADER_KEYS)],
                 "body": _buffer_body(environ), "status": None, "duration_ms": 0.0, "time": now,
                 "response_headers": [], "response_body": None, "fault": None, "credentials": None}

        def answer(status: str, headers: list[tuple[str, str]], payload: bytes) -> list[bytes]:
            entry["status"] = int(status.split()[0])
            entry["response_headers"], entry["response_body"] = list(headers), payload
            start_response(status, headers)
            return [payload]

        try:
            fault = self.mock.faults.fire(method, path)
            if fault is not None:
                entry["fault"] = fault.id
                delay = fault.delay_seconds()
                if delay:  # the server may lend its pool a thread meanwhile (server.py); else a plain sleep
                    environ.get("mockserver.sleep", time.sleep)(delay)
                if fault.drops and environ.get("mockserver.can_drop"):
                    raise DropConnection()
                if fault.answers:
                    status, headers, payload = (
                        _json_answer(502, error_body("this server cannot drop connections; serve the mock with "
                                                  "emma-mock or MockServer to use action \"drop\""))
                        if fault.drops else _json_answer(fault.response_status(), fault.response_json()))
                    return answer(status, headers, payload)

            account_id = account_in_path(path)
            if account_id is not None:
                # whose keys, never the keys: what a replay sends (see control/export.py)
                entry["credentials"] = who = identify(self.mock.store, environ.get("HTTP_AUTHORIZATION"))
                try:
                    admit(self.mock.store, self.mock.rate_limit, self.mock.config.auth, account_id, who,
                          now.timestamp())
                except ApiError as error:
                    status, headers, payload = _json_answer(error.status, error_body(error.message))
                    return answer(status, headers + list(error.headers.items()), payload)

            def recording_start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
                entry["status"] = int(status.split()[0])
                entry["response_headers"] = list(headers)
                return start_response(status, headers, exc_info)

            # The app's answers are JSON built in memory: joining them costs a copy, and lets the
            # journal keep the body the client got.
            result = self.app(environ, recording_start_response)
            try:
                payload = b"".join(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
            entry["response_body"] = payload
            return [payload]
        finally:
            entry["duration_ms"] = round((time.perf_counter() - started) * 1000, 3)
            self.mock.journal.record(entry)
            if self.console is not None:
                self.console.log(entry)


def _refused(environ: Environ, allowed_hosts: frozenset[str]) -> Answer | None:
    """The answer to a request refused before any matching: a target over MAX_TARGET_BYTES (414), a
    Host or a cross-origin write that SPEC §6 refuses (403, browser_rules)."""
    target = environ.get("REQUEST_URI") or environ.get("RAW_URI")
    if target is None:  # a server that keeps no raw target: rebuild it as sent
        query = environ.get("QUERY_STRING")
        target = quote(environ.get("PATH_INFO") or "/", safe="/;%:@&=+$,!~*'()") + (f"?{query}" if query else "")
    if len(target) > MAX_TARGET_BYTES:
        return _json_answer(414, error_body(target_too_long_message()))
    message = browser_rules.refusal(environ, allowed_hosts)
    return None if message is None else _json_answer(403, error_body(message))


def is_control_path(path: str) -> bool:
    """`/`, `/__admin[/...]` and `/__dashboard[/...]`: the control API and the page, never journaled."""
    if path == "/":
        return True
    if not path.startswith("/__"):  # the common case: an API path starts with its account id
        return False
    return any(path == prefix or path.startswith(prefix + "/") for prefix in (ADMIN_PREFIX, DASHBOARD_PREFIX))


def _too_large(environ: Environ, path: str) -> Answer | None:
    """A 413 answer, from the headers alone, when a body for the control API or the page is over its cap."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None  # the server refuses a malformed Content-Length before we see it
    cap = body_cap(environ.get("REQUEST_METHOD", "GET"), path)
    if length <= cap:
        return None
    return _json_answer(413, error_body(too_large_message(length, cap)))


def _headers_only(answer: Iterable[bytes]) -> Iterable[bytes]:
    """HEAD: whoever answered (a fault, authentication, Flask), no body bytes go out."""
    close = getattr(answer, "close", None)
    if close is not None:
        close()
    return []


def _buffer_body(environ: Environ) -> bytes | int:
    """Read the body once so both the journal and the app can use it; over the limit, only its length."""
    declared = environ.get("CONTENT_LENGTH")
    if (not declared or declared == "0") and "HTTP_TRANSFER_ENCODING" not in environ:
        # No body (most GETs): nothing to read, and the app must not read the connection either.
        environ["wsgi.input"] = io.BytesIO()
        environ["mockserver.body"] = b""
        environ["CONTENT_LENGTH"] = "0"
        return b""
    try:  # waitress de-chunks a chunked body and sets CONTENT_LENGTH itself
        length = int(declared) if declared else 0
    except ValueError:
        length = 0
    if length > MAX_BODY_BYTES:
        environ["mockserver.too_large"] = True
        return length
    stream = environ.get("wsgi.input")
    body = stream.read(length) if stream is not None and length else b""
    assert isinstance(body, bytes)
    environ["wsgi.input"] = io.BytesIO(body)
    environ["mockserver.body"] = body
    environ["CONTENT_LENGTH"] = str(len(body))
    return body
