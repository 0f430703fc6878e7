"""The API's errors: one class per status, each carrying the message a person can act on.

`error_body` is the one writer of the `{"error": message}` document, whoever
answers: a view, the WSGI front (serving/front.py), or the server's own parse errors.
"""
from __future__ import annotations

import json


class ApiError(Exception):
    """An error answered as `{"error": message}` with `status`."""

    status = 400

    def __init__(self, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.headers = headers or {}


class BadRequest(ApiError):
    status = 400


class Unauthorized(ApiError):
    status = 401

    def __init__(self, message: str):
        super().__init__(message, {"WWW-Authenticate": 'Basic realm="Emma API"'})


class Forbidden(ApiError):
    status = 403


class RateLimited(Forbidden):
    """The real API's answer past its rate limit: 403 with this exact message."""

    def __init__(self, retry_after: str):
        super().__init__("Rate Limit Exceeded", {"Retry-After": retry_after})


class NotFound(ApiError):
    status = 404


class PayloadTooLarge(ApiError):
    status = 413


class StorageFailed(ApiError):
    """The database file could not be written; the write was not applied."""

    status = 503


class InvalidFixture(ValueError):
    """A fixture or state document that cannot be loaded; the message names where and why."""


def error_body(message: str) -> bytes:
    """The JSON body of every error answer: `{"error": message}`, UTF-8."""
    return json.dumps({"error": message}).encode()


def cut(text: str, limit: int = 200) -> str:
    """Client text as a message repeats it, cut to `limit` characters: an answer never echoes megabytes."""
    return text if len(text) <= limit else text[:limit] + "…"


def shown(value: object, limit: int = 100) -> str:
    """A client's value quoted in a message (a string's repr, else its JSON), cut to `limit` characters."""
    return cut(repr(value) if isinstance(value, str) else json.dumps(value, default=str), limit)
