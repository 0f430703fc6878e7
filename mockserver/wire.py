"""JSON in and out for the views of the API and `/__admin` blueprints, and a view's way to its Mock.

Below both blueprint packages: `api/` and `control/` import it, it imports neither.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask, Response, current_app, g, request

from .core import strict_json
from .core.errors import BadRequest, PayloadTooLarge, error_body
from .core.limits import body_cap, too_large_message
from .core.paging import Page, parse_page
from .core.records import encode
from .core.store import Store
from .state.mock import Mock

JSON = "application/json"
EXTENSION = "emma_mock"  # the key of the Mock in `app.extensions`


def mock_of(app: Flask) -> Mock:
    """The Mock an app created by `create_app` serves."""
    mock: Mock = app.extensions[EXTENSION]
    return mock


def current_mock() -> Mock:
    """The Mock of the app handling the current request (for views)."""
    return mock_of(current_app)


def store() -> Store:
    return current_mock().store


def now() -> datetime:
    """The mock clock's one reading for this request: its journal `time`, and every date it makes.

    serving/front.py reads the clock once per API request and puts the reading in `flask.g`; a
    request without one (the control API) reads the clock here."""
    reading: datetime | None = g.get("now")
    return reading if reading is not None else current_mock().clock.now()


def reply(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response of a view: a record, a list, a count, `true`."""
    return Response(encode(payload), status=status, mimetype=JSON,
                    headers=headers)


def error_reply(message: str, status: int, headers: dict[str, str] | None = None) -> Response:
    """An error answer from a view or an error handler: `{"error": message}` with `status`."""
    return Response(error_body(message), status=status, mimetype=JSON, headers=headers)


def json_body(max_depth: int = strict_json.MAX_DEPTH) -> Any:
    """The request body parsed as JSON whatever its Content-Type (the vendor's wrapper sends none)."""
    length, cap = request.content_length or 0, body_cap(request.method, request.path)
    if length > cap:  # (the server and the front refuse most such bodies first, from the headers)
        raise PayloadTooLarge(too_large_message(length, cap))
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise BadRequest("request body is empty; send a JSON object")
    try:
        return strict_json.loads(raw, max_depth)
    except RecursionError:
        raise BadRequest("request body is nested too deeply") from None
    except UnicodeDecodeError:
        raise BadRequest("request body is not UTF-8 encoded JSON") from None
    except ValueError as exc:
        raise BadRequest(f"request body is not valid JSON: {exc}") from None


def json_object() -> dict[str, Any]:
    body = json_body()
    if not isinstance(body, dict):
        raise BadRequest(f"request body must be a JSON object, got {type(body).__name__}")
    return body


def required_text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(f"'{name}' is required and must be a non-empty string")
    return value


def page() -> Page:
    return parse_page(request.args)


def listing(page: Page, count: Any, items: Any) -> Response:
    """A list endpoint's answer: the bare total when `count` is asked for, else the page."""
    return reply(count() if page.count else items(page.start, page.end))
