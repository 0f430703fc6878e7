"""`/__admin/...`: the control API that tests use to reset, inspect, break and time-travel the mock."""
from __future__ import annotations

import hmac
from typing import Any

from flask import Blueprint, Response, request

from ..core import strict_json
from ..core.checks import flag, is_int, is_number
from ..core.clock import MAX_ADVANCE_SECONDS
from ..core.dates import DateError, format_date, parse_datetime
from ..core.errors import BadRequest, InvalidFixture, NotFound, Unauthorized
from ..core.fixtures import validate
from ..core.globs import MAX_GLOB
from ..state.rate_limit import MAX_REQUESTS, MAX_WINDOW_SECONDS
from ..wire import current_mock, json_body, json_object, listing, page, reply
from . import export
from .openapi import admin_endpoints
from .openapi import document as openapi_document

blueprint = Blueprint("admin", __name__, url_prefix="/__admin")



@blueprint.before_request
def require_admin_token() -> None:
    """When MOCKSERVER_ADMIN_TOKEN is set, every control but the index, health and OpenAPI needs it."""
    token = current_mock().config.admin_token
    if not token or request.endpoint in ("admin.index", "admin.health", "admin.openapi"):
        return
    given = request.headers.get("X-Admin-Token", "")
    bearer = request.headers.get("Authorization", "")
    if bearer.startswith("Bearer "):
        given = given or bearer[len("Bearer "):]
    # surrogateescape: a token read from a non-UTF-8 environment must not turn every check into a 500
    if not hmac.compare_digest(given.encode("utf-8", "surrogateescape"), token.encode("utf-8", "surrogateescape")):
        raise Unauthorized("the control API needs the admin token: send it as 'X-Admin-Token' "
                           "or 'Authorization: Bearer <token>'")


@blueprint.get("")
def index() -> Response:
    """Each endpoint of the control API with a line of help."""
    return reply({"endpoints": admin_endpoints(), "openapi": "/__admin/openapi.json"})


@blueprint.get("/health")
def health() -> Response:
    """Liveness for health checks."""
    return reply({"status": "ok"})


@blueprint.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3.1 document of the whole served API, admin routes included."""
    return reply(openapi_document())


@blueprint.post("/reset")
def reset() -> Response:
    """Back to the loaded fixtures: data, ids, journal, faults, clock, rate limit."""
    current_mock().reset()
    return reply({"status": "reset"})


@blueprint.get("/state")
def get_state() -> Response:
    """The whole state as a fixture document."""
    return reply(current_mock().store.export())


# --- the state a page at a time (the dashboard and `MockServer.connect` read these, never the whole state) ---


@blueprint.get("/accounts")
def list_accounts() -> Response:
    """The accounts with their keys, in id order; paged like the API (`start`, `end`, `count`)."""
    return listing(page(), current_mock().store.count_accounts, current_mock().store.list_accounts)


@blueprint.get("/accounts/<id:account_id>")
def get_account(account_id: int) -> Response:
    """One account with its keys."""
    return reply(current_mock().store.get_account(account_id))


@blueprint.get("/accounts/<id:account_id>/touchpoints")
def list_account_types(account_id: int) -> Response:
    """An account's touchpoint types in the API's order, paged like the API."""
    store = current_mock().store
    store.get_account(account_id)
    return listing(page(), lambda: store.count_touchpoint_types(account_id),
                   lambda start, end: store.list_touchpoint_types(account_id, start, end))


@blueprint.get("/accounts/<id:account_id>/members")
def list_account_members(account_id: int) -> Response:
    """An account's members in id order, each with its `touchpoint_count`; paged like the API."""
    store = current_mock().store
    store.get_account(account_id)

    def members(start: int, end: int) -> list[dict[str, Any]]:
        return [{**member, "touchpoint_count": store.count_member_touchpoints(account_id, member["member_id"])}
                for member in store.list_members(account_id, start, end)]

    return listing(page(), lambda: store.count_members(account_id), members)


@blueprint.get("/accounts/<id:account_id>/members/<id:member_id>/touchpoints")
def list_account_member_touchpoints(account_id: int, member_id: int) -> Response:
    """A member's touchpoints in the API's order, paged like the API."""
    store = current_mock().store
    return listing(page(), lambda: store.count_member_touchpoints(account_id, member_id),
                   lambda start, end: store.member_touchpoints(account_id, member_id, start, end))


@blueprint.put("/state")
def put_state() -> Response:
    """Replace the whole state with a fixture document, checked as at load."""
    try:
        body = json_body(max_depth=strict_json.DOCUMENT_DEPTH)
        dataset = validate([("state", body)], current_mock().clock.now(), consume=True)
    except InvalidFixture as exc:
        raise BadRequest(str(exc)) from None
    current_mock().store.replace_state(dataset)
    return reply(current_mock().store.export())


@blueprint.get("/requests")
def list_requests() -> Response:
    """The journal of API requests, oldest first; filters `method`, `path`, `status`, `after`; `count`."""
    if len(request.args.get("path", "")) > MAX_GLOB:
        raise BadRequest(f"query parameter 'path' must be a path or glob of at most {MAX_GLOB} characters")
    entries = current_mock().journal.entries(request.args)
    if flag(request.args, "count"):
        return reply(len(entries))
    return reply(entries)


@blueprint.get("/requests/export")
def export_requests() -> Response:
    """The session since the last reset as a pytest module that replays it; `until` stops after that entry."""
    module = export.session_module(current_mock(), request.args.get("until"))
    return Response(module, mimetype=export.CONTENT_TYPE,
                    headers={"Content-Disposition": f'attachment; filename="{export.FILENAME}"',
                             "X-Content-Type-Options": "nosniff"})


@blueprint.get("/changes")
def changes() -> Response:
    """Cheap counters a page polls to know what to fetch again: state, journal, controls."""
    return reply(current_mock().changes())


@blueprint.delete("/requests")
def clear_requests() -> Response:
    """Empty the journal."""
    current_mock().journal.clear()
    return reply(True)


@blueprint.post("/faults")
def add_fault() -> Response:
    """Add a fault; it answers with its id."""
    return reply(current_mock().faults.add(json_body()).to_json())


@blueprint.get("/faults")
def list_faults() -> Response:
    """The active faults."""
    return reply(current_mock().faults.list())


@blueprint.delete("/faults")
def clear_faults() -> Response:
    """Remove every fault."""
    current_mock().faults.clear()
    return reply(True)


@blueprint.delete("/faults/<id:fault_id>")
def delete_fault(fault_id: int) -> Response:
    """Remove one fault."""
    if not current_mock().faults.remove(fault_id):
        raise NotFound(f"no fault with id {fault_id}")
    return reply(True)


def _clock() -> dict[str, Any]:
    clock = current_mock().clock
    return {"now": format_date(clock.now()), "frozen": clock.frozen}


@blueprint.get("/clock")
def get_clock() -> Response:
    """What "now" is, and whether it is frozen."""
    return reply(_clock())


@blueprint.put("/clock")
def set_clock() -> Response:
    """Freeze "now" (`now`) or move it forward (`advance_seconds`)."""
    body = json_object()
    if ("now" in body) == ("advance_seconds" in body):
        raise BadRequest("send exactly one of 'now' (a date) or 'advance_seconds' (a number)")
    if "now" in body:
        try:
            moment = parse_datetime(body["now"])
        except DateError as exc:
            raise BadRequest(f"'now': {exc}") from None
        current_mock().clock.freeze(moment)
    else:
        seconds = body["advance_seconds"]
        if not is_number(seconds) or not 0 <= seconds <= MAX_ADVANCE_SECONDS:
            raise BadRequest("'advance_seconds' must be a non-negative number of seconds")
        try:
            current_mock().clock.advance(seconds)
        except OverflowError:
            raise BadRequest("'advance_seconds' would move the clock past the year 9999") from None
    return reply(_clock())


@blueprint.delete("/clock")
def real_clock() -> Response:
    """Back to real time."""
    current_mock().clock.unfreeze()
    return reply(_clock())


@blueprint.get("/rate-limit")
def get_rate_limit() -> Response:
    """The rate limit in force, or null."""
    return reply(current_mock().rate_limit.settings())


@blueprint.put("/rate-limit")
def set_rate_limit() -> Response:
    """Allow at most `requests` per `per_seconds` per account."""
    body = json_object()
    requests, seconds = body.get("requests"), body.get("per_seconds")
    if not is_int(requests) or not 1 <= requests <= MAX_REQUESTS:
        raise BadRequest(f"'requests' must be a positive integer, at most {MAX_REQUESTS}")
    if not is_number(seconds) or not 0 < seconds <= MAX_WINDOW_SECONDS:
        raise BadRequest(f"'per_seconds' must be a number of seconds above 0 (at most {MAX_WINDOW_SECONDS})")
    current_mock().rate_limit.configure(requests, seconds)
    return reply(current_mock().rate_limit.settings())


@blueprint.delete("/rate-limit")
def clear_rate_limit() -> Response:
    """Remove the rate limit."""
    current_mock().rate_limit.disable()
    return reply(True)
