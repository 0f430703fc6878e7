"""The WSGI front of the Flask app: a request's whole path, read top to bottom in `Front.__call__`.

1. Refused before anything reads the path, on every path (`/__admin` included): a request target
   over 8 KiB (414), a Host name or a cross-origin write that `browser_rules` refuses (403).
2. One path for every layer: `//100/x` and `/100/x/` are read as `/100/x`, as werkzeug routes them.
3. `/`, `/__admin` and `/__dashboard`: a body over its cap (core/limits) is a 413 from the headers;
   else Flask answers. Not journaled.
4. An API path (`_api`), journaled with what came in and went out:
   the request's one clock reading (its journal `time`, rate-limit count and every date it makes);
   its body read once (for the journal and the view); whose keys it carries (for the journal, so a
   replay sends them, even when a fault answers); a fault, which state/faults decides (delay,
   drop, answer) and this front carries out; authentication and the rate limit (401/403/429 come
   before Flask's 404/405/400, so a client without keys learns nothing); then Flask.
5. HEAD: no body bytes go out, whoever answered.

This is WSGI rather than Flask's request hooks only for what hooks cannot do: answer before
routing, whatever the path; close the connection with no answer (a drop); strip the body of
every HEAD answer; and record every answer, the fault's and authentication's included.
"""
from __future__ import annotations

import copy
import io
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from flask import Flask, g

from ..core.errors import ApiError, error_body
from ..core.ids import account_in_path
from ..core.limits import MAX_TARGET_BYTES, body_cap, target_too_long_message, too_large_message
from ..state.journal import NO_KEYS
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
Answer = tuple[str, list[tuple[str, str]], bytes]  # status line, headers, body


class DropConnection(Exception):
    """Raised to the WSGI server to close the connection without an answer (see server.py)."""


class Front:
    """The Flask app of one mock behind its front; the server that serves it may set how it drops and sleeps."""

    can_drop = False  # whether the server closes the connection on DropConnection (else a drop is a 502)
    sleep: Callable[[float], None] = staticmethod(time.sleep)  # how a delay fault waits

    def __init__(self, flask_app: Flask, mock: Mock, console: ConsoleLog | None = None):
        self.flask_app = flask_app
        self.app = flask_app.wsgi_app  # Flask's own, which this front replaces
        self.mock = mock
        self.console = console
        self.allowed_hosts = frozenset(mock.config.allowed_hosts)

    def served_by(self, can_drop: bool, sleep: Callable[[float], None]) -> Front:
        """This front as a server that can drop a connection and sleep a delay its own way calls it."""
        front = copy.copy(self)
        front.can_drop, front.sleep = can_drop, sleep
        return front

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        answer = self._answer(environ, start_response)
        if environ.get("REQUEST_METHOD", "").upper() == "HEAD":
            return _headers_only(answer)
        return answer

    def _answer(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        refused = _refused(environ, self.allowed_hosts)
        if refused is not None:
            return _send(start_response, refused)
        path = _one_path(environ)
        if not is_control_path(path):
            return self._api(environ, start_response, path)
        too_large = _too_large(environ, path)
        if too_large is not None:
            return _send(start_response, too_large)
        return self.app(_plain_http(environ), start_response)

    def _api(self, environ: Environ, start_response: StartResponse, path: str) -> Iterable[bytes]:
        started = time.perf_counter()
        now = self.mock.clock.now()
        entry = _journal_entry(environ, path, now)
        account_id = account_in_path(path)
        if account_id is not None:
            entry["credentials"] = self._whose_keys(environ, account_id)
        out = _Recording(entry, start_response)
        try:
            entry["arrived"] = self.mock.journal.arrived()  # just before the fault decides: the export checks the order
            fault = self.mock.faults.fire(entry["method"], path)
            if fault is not None:
                entry["fault"] = fault.id
                effect = fault.effect(self.can_drop)
                if effect.delay_seconds:
                    self.sleep(effect.delay_seconds)
                    if account_id is not None:  # the keys are checked as the store is once the delay is over
                        entry["credentials"] = self._whose_keys(environ, account_id)
                if effect.drop:
                    raise DropConnection()
                if effect.answer is not None:
                    return out.send(_json_answer(*effect.answer))
            refused = None if account_id is None else self._admission(account_id, entry["credentials"], now)
            if refused is not None:
                return out.send(refused)
            with self.flask_app.app_context():  # the request's context reuses it, so its views read `g.now`
                g.now = now
                return out.app(self.app, _plain_http(environ))
        finally:
            entry["duration_ms"] = round((time.perf_counter() - started) * 1000, 3)
            self.mock.journal.record(entry)
            if self.console is not None:
                self.console.log(entry)

    def _whose_keys(self, environ: Environ, account_id: int) -> int | str:
        """Whose keys a request to an account's path carries, never the keys: what the journal keeps for a replay
        to send (control/export.py). With --auth off, the path's account when it exists (the replay's server
        checks keys), else NO_KEYS."""
        if not self.mock.config.auth:
            return account_id if self.mock.store.has_account(account_id) else NO_KEYS
        return identify(self.mock.store, environ.get("HTTP_AUTHORIZATION"))

    def _admission(self, account_id: int, who: int | str, now: datetime) -> Answer | None:
        """Authentication and the rate limit of an account's path: the refusal, or None to go on."""
        try:
            admit(self.mock.store, self.mock.rate_limit, self.mock.config.auth, account_id, who, now.timestamp())
        except ApiError as error:
            status, headers, body = _json_answer(error.status, error_body(error.message))
            return status, headers + list(error.headers.items()), body
        return None


class _Recording:
    """An API request's answer on its way out, noted in its journal entry (status, headers, body)."""

    def __init__(self, entry: dict[str, Any], start_response: StartResponse):
        self.entry = entry
        self.start_response = start_response

    def send(self, answer: Answer) -> list[bytes]:
        status, headers, body = answer
        self.entry["status"] = int(status.split()[0])
        self.entry["response_headers"], self.entry["response_body"] = list(headers), body
        self.start_response(status, headers)
        return [body]

    def app(self, app: WSGIApp, environ: Environ) -> list[bytes]:
        """The app's answer, joined: it is JSON built in memory, and the journal keeps what the client got."""
        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            self.entry["status"] = int(status.split()[0])
            self.entry["response_headers"] = list(headers)
            return self.start_response(status, headers, exc_info)

        result = app(environ, start_response)
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        self.entry["response_body"] = body
        return [body]


def _journal_entry(environ: Environ, path: str, now: datetime) -> dict[str, Any]:
    """The journal's raw record of a request (it renders headers, query and body only when read)."""
    return {"method": environ.get("REQUEST_METHOD", "GET").upper(), "path": path,
            "query": environ.get("QUERY_STRING", ""),
            "headers": [(k, v) for k, v in environ.items() if k.startswith(_HEADER_KEYS)],
            "body": _read_body(environ, path), "status": None, "duration_ms": 0.0, "time": now,
            "response_headers": [], "response_body": None, "fault": None, "credentials": None}


def _plain_http(environ: Environ) -> Environ:
    """The request as Flask routes it: the mock speaks no WebSocket, so a GET asking to upgrade to one is
    answered as the GET it is (a server may ignore Upgrade, RFC 9110 7.8), not refused by werkzeug's
    routing as a WebSocket request its HTTP routes cannot take. The journal keeps the header as sent."""
    environ.pop("HTTP_UPGRADE", None)
    return environ


def _json_answer(status: int, body: bytes) -> Answer:
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:  # a fault may answer any status from 200 to 599
        reason = "Error"
    if status in (204, 304):  # these never carry a body: a fault answering one sends headers only
        return f"{status} {reason}", [], b""
    return f"{status} {reason}", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))], body


def _send(start_response: StartResponse, answer: Answer) -> list[bytes]:
    start_response(answer[0], answer[1])
    return [answer[2]]


def _refused(environ: Environ, allowed_hosts: frozenset[str]) -> Answer | None:
    """The answer to a request refused before any matching: a target over MAX_TARGET_BYTES (414), a
    Host or a cross-origin write that browser_rules refuses (403)."""
    target = environ.get("REQUEST_URI") or environ.get("RAW_URI")
    if target is None:  # a server that keeps no raw target: rebuild it as sent
        query = environ.get("QUERY_STRING")
        target = quote(environ.get("PATH_INFO") or "/", safe="/;%:@&=+$,!~*'()") + (f"?{query}" if query else "")
    if len(target) > MAX_TARGET_BYTES:
        return _json_answer(414, error_body(target_too_long_message()))
    message = browser_rules.refusal(environ, allowed_hosts)
    return None if message is None else _json_answer(403, error_body(message))


def _one_path(environ: Environ) -> str:
    """The path as Flask routes it, for faults, the journal and authentication to read the same."""
    raw_path = environ.get("PATH_INFO") or "/"
    if (len(raw_path) > 1 and raw_path[-1] == "/") or raw_path[:2] == "//" or raw_path[0] != "/":
        # werkzeug routes `//100/x` as `/100/x` (it strips leading slashes), and a trailing slash is
        # accepted: PATH_INFO is rewritten, since the environ is how WSGI hands the request to Flask.
        environ["PATH_INFO"] = raw_path = "/" + raw_path.strip("/")
    # WSGI hands the path over as latin-1: read it as the UTF-8 characters the routes see
    return raw_path if raw_path.isascii() else raw_path.encode("latin-1", "replace").decode("utf-8", "replace")


def is_control_path(path: str) -> bool:
    """`/`, `/__admin[/...]` and `/__dashboard[/...]`: the control API and the page, never journaled."""
    if path == "/":
        return True
    if not path.startswith("/__"):  # the common case: an API path starts with its account id
        return False
    return any(path == prefix or path.startswith(prefix + "/") for prefix in (ADMIN_PREFIX, DASHBOARD_PREFIX))


def _declared_length(environ: Environ) -> int:
    try:  # waitress de-chunks a chunked body and sets CONTENT_LENGTH itself
        return int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0  # the server refuses a malformed Content-Length before we see it


def _too_large(environ: Environ, path: str) -> Answer | None:
    """A 413 answer, from the headers alone, when a body for the control API or the page is over its cap."""
    length, cap = _declared_length(environ), body_cap(environ.get("REQUEST_METHOD", "GET"), path)
    return None if length <= cap else _json_answer(413, error_body(too_large_message(length, cap)))


def _headers_only(answer: Iterable[bytes]) -> Iterable[bytes]:
    """HEAD: whoever answered (a fault, authentication, Flask), no body bytes go out."""
    close = getattr(answer, "close", None)
    if close is not None:
        close()
    return []


def _read_body(environ: Environ, path: str) -> bytes | int:
    """An API body, read once for the journal and the view; over its cap, only its length (the view
    that reads it answers 413: wire.json_body). The view reads it again from memory: `wsgi.input`
    is replaced, since the environ is how WSGI hands the request on."""
    declared = environ.get("CONTENT_LENGTH")
    if (not declared or declared == "0") and "HTTP_TRANSFER_ENCODING" not in environ:
        body = b""  # no body (most GETs): nothing to read, and the app must not read the connection either
    else:
        length = _declared_length(environ)
        if length > body_cap(environ.get("REQUEST_METHOD", "GET"), path):
            return length
        stream = environ.get("wsgi.input")
        body = stream.read(length) if stream is not None and length else b""
        assert isinstance(body, bytes)
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    return body
