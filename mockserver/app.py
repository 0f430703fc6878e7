"""`create_app(config)`: the Flask app, wired to one Mock (store and controls)."""
from __future__ import annotations

import logging

from flask import Flask, current_app, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound as RoutingNotFound

from . import admin, api
from .config import Config
from .errors import ApiError, Forbidden, NotFound, RateLimited, Unauthorized
from .fixtures import Dataset
from .http import reply
from .middleware import ADMIN_PREFIX, ControlLayer
from .mock import Mock
from .ratelimit import RateLimiter

log = logging.getLogger("mockserver")


def create_app(config: Config | None = None, seed: Dataset | None = None) -> Flask:
    """Build the app; raises InvalidFixture when the fixtures or database do not load."""
    config = config or Config()
    mock = Mock(config, seed)
    app = Flask("mockserver")
    app.url_map.merge_slashes = False  # "//" would get werkzeug's HTML redirect; every answer is JSON
    app.config["PROVIDE_AUTOMATIC_OPTIONS"] = False  # OPTIONS gets a JSON 405 like any other verb
    app.extensions["emma_mock"] = mock
    app.register_blueprint(admin.blueprint)
    api.register(app)
    app.before_request(_guard_account)
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)
    app.wsgi_app = ControlLayer(app.wsgi_app, mock.journal, mock.faults, mock.clock)
    return app


def _account_in_path(path: str) -> int | None:
    """The account id that starts an API path, or None when the path is not under an account."""
    segment = path[1:].split("/", 1)[0]
    if not (segment.isascii() and segment.isdigit()):
        return None
    try:
        return int(segment)
    except ValueError:  # more digits than int() converts: an account no one has (ids are positive)
        return 0


def _guard_account() -> None:
    """Authentication, then the rate limit, for every path under an account (before 404/405/400)."""
    path = request.path
    if path.startswith(ADMIN_PREFIX):
        return
    account_id = _account_in_path(path)
    if account_id is None:
        return
    mock = _mock()
    if mock.config.auth:
        credentials = request.authorization
        if credentials is None or credentials.type != "basic":
            raise Unauthorized("authentication required: HTTP Basic with your public API key as the "
                               "user name and your private key as the password")
        owner = mock.store.authenticate(credentials.username or "", credentials.password or "")
        if owner is None:
            raise Unauthorized("unknown API keys: check the public and private key")
        if owner != account_id:
            raise Forbidden(f"these API keys belong to account {owner}, not to account {account_id}")
    elif not mock.store.has_account(account_id):
        raise NotFound(f"no account {account_id}")
    wait = mock.rate_limit.admit(account_id)
    if wait is not None:
        raise RateLimited(RateLimiter.retry_after(wait))


def _mock() -> Mock:
    return current_app.extensions["emma_mock"]


def _api_error(error: ApiError):
    return reply({"error": error.message}, error.status, error.headers)


def _http_error(error: HTTPException):
    if isinstance(error, RoutingNotFound):
        return reply({"error": f"no such endpoint: {request.method} {request.path}"}, 404)
    headers = {}
    message = error.description or error.name
    if isinstance(error, MethodNotAllowed):
        allowed = sorted(error.valid_methods or [])
        headers["Allow"] = ", ".join(allowed)
        message = f"{request.method} is not allowed on {request.path}; allowed: {', '.join(allowed)}"
    return reply({"error": message}, error.code or 500, headers)


def _unexpected_error(error: Exception):
    log.exception("unexpected error serving %s %s", request.method, request.path)
    return reply({"error": f"the mock failed unexpectedly ({type(error).__name__}); "
                           "this is a bug in emma-mock, please report it"}, 500)
