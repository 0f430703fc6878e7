"""Routing of API paths by table: the same answer as werkzeug's matcher, at a fraction of its cost.

Every API route is literal segments and `<id:...>` segments, and an id segment is
exactly what `core.ids.parse_id` reads. So a path's route is found by replacing
each segment that reads as an id with a placeholder and looking the result up,
once per request, instead of werkzeug walking its state machine and trying each
converter's regex (a tenth of an API request's time, measured).

The table only ever answers "this rule, these ids" for a path werkzeug would
route to that same rule with those values; anything else (no such shape, a
method the route lacks, an id out of range) goes to werkzeug, which gives the
404/405 with its `Allow` list as before. Flask documents
`RequestContext.match_request` as the hook for this.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Flask
from flask.ctx import RequestContext
from werkzeug.routing import Map, Rule

from ..core.ids import parse_id

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

_ID = None  # a segment that reads as an id, in a route's shape
Shape = tuple[str | None, ...]


class IdRoutes:
    """(shape of a path, method) -> (rule, names of its id segments), for routes made of literals and ids."""

    def __init__(self, url_map: Map, converter: str):
        self._routes: dict[tuple[Shape, str], tuple[Rule, tuple[str, ...]]] = {}
        others: list[Shape] = []  # of routes left to werkzeug: their shape up to the first other segment
        for rule in url_map.iter_rules():
            shape, names, whole = _read(rule, converter)
            plain = not (rule.defaults or rule.redirect_to is not None or rule.host or rule.subdomain or rule.websocket)
            if not (whole and plain and rule.methods):  # (a rule without methods takes them all: werkzeug's)
                others.append(shape)
                continue
            for method in rule.methods:
                self._routes[shape, method] = (rule, names)
        # A path another route could also match (`/{id}/members/email/<path:...>` takes any tail) is
        # never answered from the table, whichever route werkzeug would prefer.
        for key in [key for key in self._routes if any(key[0][:len(prefix)] == prefix for prefix in others)]:
            del self._routes[key]

    def match(self, method: str, path: str) -> tuple[Rule, dict[str, Any]] | None:
        """The rule and view arguments werkzeug would give this request, or None to ask werkzeug."""
        segments = path[1:].split("/")
        ids = [parse_id(segment) for segment in segments]
        shape = tuple(_ID if number is not None else segment for segment, number in zip(segments, ids, strict=True))
        found = self._routes.get((shape, method))
        if found is None:
            return None
        rule, names = found
        return rule, dict(zip(names, [number for number in ids if number is not None], strict=True))


def _read(rule: Rule, converter: str) -> tuple[Shape, tuple[str, ...], bool]:
    """A route's shape and id names up to its first segment that is neither a plain literal nor an id,
    and whether that is the whole route (only those can be routed by table)."""
    shape: list[str | None] = []
    names: list[str] = []
    for segment in rule.rule[1:].split("/"):  # werkzeug's rules start with "/"; "/" itself is one empty segment
        kind, _, name = segment[1:-1].partition(":")
        if segment.startswith("<") and segment.endswith(">") and kind == converter and name.isidentifier():
            shape.append(_ID)
            names.append(name)
        elif "<" in segment or ">" in segment:
            return tuple(shape), tuple(names), False  # another converter: werkzeug's from here on
        elif not segment or parse_id(segment) is not None:
            return (*shape, segment), tuple(names), False  # an empty segment (`/`), a literal like an id
        else:
            shape.append(segment)
    return tuple(shape), tuple(names), True


class _TableRoutedContext(RequestContext):
    app: TableRoutedFlask

    def match_request(self) -> None:
        routes, adapter = self.app.id_routes, self.url_adapter
        found = None
        # (never a WebSocket request: the front answers an upgrade as plain HTTP, serving/front.py)
        if routes is not None and adapter is not None:
            found = routes.match(self.request.method, self.request.path)
        if found is None:
            super().match_request()
            return
        self.request.url_rule, self.request.view_args = found


class TableRoutedFlask(Flask):
    """Flask whose requests are routed by `IdRoutes` first, once `route_by_table` has built it."""

    id_routes: IdRoutes | None = None

    def request_context(self, environ: WSGIEnvironment) -> RequestContext:
        return _TableRoutedContext(self, environ)

    def route_by_table(self, converter: str) -> None:
        """Build the table from the routes registered so far (call it after the last one); `converter`
        is the name under which the id converter is registered (`<converter:name>` in a route)."""
        self.id_routes = IdRoutes(self.url_map, converter)
