"""The dashboard: one page at `/` and its assets at `/__dashboard/<name>`, shipped as package data.

The page holds no state and no keys: its script reads everything from `/__admin`
(with the admin token when one is set), so it can be served to anyone.
"""
from __future__ import annotations

from functools import cache
from importlib import resources

from flask import Blueprint, Response, request

from ...core.errors import NotFound

blueprint = Blueprint("dashboard", __name__)

ASSETS = {"dashboard.css": "text/css; charset=utf-8", "dashboard.js": "text/javascript; charset=utf-8",
          "builders.js": "text/javascript; charset=utf-8"}  # the pure builders of what the page copies
# Everything comes from this server: a page that tried to load a font or script from elsewhere fails here.
_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
           "connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'")


@cache
def _read(name: str) -> bytes:
    return resources.files(__name__).joinpath(name).read_bytes()


def _serve(name: str, mimetype: str) -> Response:
    return Response(_read(name), content_type=mimetype,
                    headers={"Cache-Control": "no-cache", "Content-Security-Policy": _POLICY,
                             "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"})


@blueprint.get("/", strict_slashes=False)
def page() -> Response:
    """The dashboard's HTML, at `/` exactly.

    `strict_slashes=False` keeps werkzeug from answering an empty path with its HTML
    redirect; such a request (a client that sent no path) gets the API's JSON 404.
    """
    if request.environ.get("PATH_INFO") != "/":
        raise NotFound(f"no such endpoint: {request.method} {request.environ.get('PATH_INFO') or '(empty path)'}")
    return _serve("index.html", "text/html; charset=utf-8")


@blueprint.get("/__dashboard/<name>")
def asset(name: str) -> Response:
    """The dashboard's stylesheet and script; anything else is a JSON 404."""
    if name not in ASSETS:
        raise NotFound(f"no dashboard asset {name!r} (there are: {', '.join(sorted(ASSETS))})")
    return _serve(name, ASSETS[name])
