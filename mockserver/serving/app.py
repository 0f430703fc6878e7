"""`create_app(config)`: the Flask app, wired to one Mock (store and controls)."""
from __future__ import annotations

import logging

from flask import Flask, Response, request
from flask.sessions import NullSession, SecureCookieSession, SecureCookieSessionInterface
from flask.wrappers import Request
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.exceptions import NotFound as RoutingNotFound
from werkzeug.routing import BaseConverter, ValidationError

from .. import api
from ..config import Config
from ..control import dashboard
from ..control import views as admin
from ..core.errors import ApiError, cut
from ..core.fixtures import Dataset
from ..core.ids import ID_REGEX, parse_id
from ..core.terminal import terminal_safe
from ..state.mock import Mock
from ..wire import EXTENSION, error_reply
from .console import ConsoleLog
from .front import Front
from .routing import TableRoutedFlask

log = logging.getLogger("mockserver")


def create_app(config: Config | None = None, seed: Dataset | None = None) -> Flask:
    """Build the app; raises InvalidFixture when the fixtures or database do not load."""
    config = config or Config()
    mock = Mock(config, seed)
    app = TableRoutedFlask("mockserver")
    app.url_map.merge_slashes = False  # "//" would get werkzeug's HTML redirect; every answer is JSON
    app.config["PROVIDE_AUTOMATIC_OPTIONS"] = False  # OPTIONS gets a JSON 405 like any other verb
    app.session_interface = _NoSessions()
    app.extensions[EXTENSION] = mock
    app.url_map.converters["id"] = IdConverter  # before any blueprint adds a route that uses it
    app.register_blueprint(admin.blueprint)
    app.register_blueprint(dashboard.blueprint)
    api.register(app)
    app.route_by_table("id")  # every route is registered: API paths are routed by table from here on
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)
    console = None if config.quiet else ConsoleLog()
    if console is not None:
        mock.when_closed(console.close)
    app.wsgi_app = Front(app, mock, console)  # type: ignore[method-assign]  # Flask's documented way to wrap it
    return app


class _NoSessions(SecureCookieSessionInterface):
    """Without a secret key every request shares one empty read-only session (Flask makes one per request)."""

    _empty = NullSession()

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        return super().open_session(app, request) if app.secret_key else self._empty


class IdConverter(BaseConverter):
    """`<id:name>`: an id as `core.ids.parse_id` reads it (ASCII digits only); anything else: no route."""

    regex = ID_REGEX  # a segment that is no id matches no route at all (404, not a 405 from a sibling)
    weight = 50  # as werkzeug's int: a literal segment such as `members` wins over an id

    def to_python(self, value: str) -> int:
        number = parse_id(value)
        if number is None:
            raise ValidationError()
        return number

    def to_url(self, value: int) -> str:
        return str(int(value))


def _api_error(error: ApiError) -> Response:
    return error_reply(error.message, error.status, error.headers)


def _http_error(error: HTTPException) -> Response:
    method, path = cut(request.method), cut(request.path)
    if isinstance(error, RoutingNotFound):
        return error_reply(f"no such endpoint: {method} {path}", 404)
    headers = {}
    message = error.description or error.name
    if isinstance(error, MethodNotAllowed):
        allowed = sorted(error.valid_methods or [])
        headers["Allow"] = ", ".join(allowed)
        message = f"{method} is not allowed on {path}; allowed: {', '.join(allowed)}"
    return error_reply(message, error.code or 500, headers)


def _unexpected_error(error: Exception) -> Response:
    log.exception("unexpected error serving %s %s", terminal_safe(request.method), terminal_safe(cut(request.path)))
    return error_reply(f"the mock failed unexpectedly ({type(error).__name__}); "
                       "this is a bug in emma-mock, please report it", 500)
