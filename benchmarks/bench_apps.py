"""The WSGI apps the benchmarks serve: the mock itself, and a bare Flask app to compare it with.

`bare_app()` answers, per (method, path), a fixed JSON body captured from the
mock (so both send the same bytes): no auth, no store, no journal — what Flask
itself costs on a given server. `mock_app()` is the real mock, built by
`mockserver.serving.app.create_app` exactly as the CLI builds it.
"""
from __future__ import annotations

import json
import os

from flask import Flask, Response, request


def mock_app():
    from mockserver.config import Config
    from mockserver.core.fixtures import DEFAULT_FIXTURE
    from mockserver.serving.app import create_app

    fixtures = os.environ.get("BENCH_FIXTURES") or DEFAULT_FIXTURE
    auth = os.environ.get("BENCH_AUTH_ON", "1") == "1"
    return create_app(Config(fixtures=fixtures, auth=auth, db=os.environ.get("BENCH_DB") or None))


def bare_app(bodies_file: str | None = None) -> Flask:
    """Bodies file: a JSON list of [method, path, body text]."""
    with open(bodies_file or os.environ["BENCH_BARE_BODIES"], encoding="utf-8") as handle:
        routes = json.load(handle)
    app = Flask("bare")
    for index, (method, path, body) in enumerate(routes):
        payload = body.encode()

        def view(payload: bytes = payload) -> Response:
            request.get_data()  # a real endpoint reads its body
            return Response(payload, mimetype="application/json")

        app.add_url_rule(path, f"route{index}", view, methods=[method])
    return app
