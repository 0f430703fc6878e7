"""`create_app(config)`: the Flask app, wired to one Mock (store and controls)."""
from __future__ import annotations

import logging

from flask import Flask, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound as RoutingNotFound

from ..control import dashboard, views as admin
from .. import api
from ..config import Config
from ..core.errors import ApiError
from ..core.fixtures import Dataset
from .wire import reply
from .control_layer import ControlLayer
from ..control.mock import Mock

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
    app.register_blueprint(dashboard.blueprint)
    api.register(app)
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)
    app.wsgi_app = ControlLayer(app.wsgi_app, mock)
    return app


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
