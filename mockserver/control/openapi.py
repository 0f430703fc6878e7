"""The OpenAPI 3.1 document of everything the mock serves, built in code.

Served at `GET /__admin/openapi.json`. `tests/test_openapi.py` keeps it true
to the app (validated, and every route of the app in it and back), and
`tests/test_schemathesis.py` fuzzes the live server against it.

Every operation's `operationId` is the Flask endpoint that serves it, so a
route and its documentation can be matched exactly.
"""
from __future__ import annotations

import copy
from typing import Any

from ..core.checks import TRUE_FLAGS
from ..core.clock import MAX_ADVANCE_SECONDS
from ..core.dates import EMMA_DATE, ISO_DATE
from ..core.fixtures import COLLECTIONS
from ..core.globs import MAX_GLOB
from ..core.limits import BATCH_LIMIT, MAX_BODY_BYTES
from ..core.paging import PAGE_LIMIT
from ..state.faults import MAX_DELAY_MS
from ..state.rate_limit import MAX_WINDOW_SECONDS
from .export import CONTENT_TYPE as EXPORT_CONTENT_TYPE
from .export import FILENAME as EXPORT_FILENAME

OPENAPI_VERSION = "3.1.0"

# What responses carry, and what requests may send (that form, or ISO 8601 with optional
# fraction and `Z`/`±HH:MM`): the very expressions the date parser uses.
DATE_PATTERN = f"^{EMMA_DATE}$"
REQUEST_DATE_PATTERN = f"^(?:{EMMA_DATE}|{ISO_DATE})$"

JSON = "application/json"

# The dashboard's page and assets (`/`, `/__dashboard/<name>`) are served by the app but are not
# API: HTML, CSS and JavaScript for a person. They are left out of this document on purpose.
NOT_API_ENDPOINTS = frozenset({"dashboard.page", "dashboard.asset"})


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def _schema(name: str) -> dict[str, str]:
    return _ref("schemas", name)


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {JSON: {"schema": schema}}


def _object(properties: dict[str, Any], required: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    """A closed object: the server answers exactly these fields, so anything else is drift."""
    return {"type": "object", "properties": properties,
            "required": list(properties) if required is None else required,
            "additionalProperties": False, **extra}


_ID = {"type": "integer", "minimum": 1}
_NULLABLE_INT = {"type": ["integer", "null"]}
_TEXT = {"type": "string", "minLength": 1}
_ANY: dict[str, Any] = {}


def _schemas() -> dict[str, Any]:
    member = {
        "account_id": _ID,
        "member_id": _ID,
        "email": {"type": "string"},
        "status": {"const": "active"},
        "member_since": _schema("Date"),
        "fields": {"type": "object"},
    }
    return {
        "Date": {"type": "string", "pattern": DATE_PATTERN,
                 "description": "A date as the API answers it: `@D:YYYY-MM-DDTHH:MM:SS`, UTC, no fraction.",
                 "examples": ["@D:2025-12-02T11:23:47"]},
        "RequestDate": {
            "type": "string", "pattern": REQUEST_DATE_PATTERN,
            "description": "A date in a request: `@D:YYYY-MM-DDTHH:MM:SS`, or ISO 8601 "
                           "`YYYY-MM-DDTHH:MM:SS[.fff][Z|±HH:MM]` (converted to UTC; no offset means UTC). "
                           "Anything else is answered with 400.",
            "examples": ["@D:2025-12-02T11:23:47", "2025-12-02T12:23:47+01:00"]},
        "Error": _object({"error": {"type": "string", "description": "What went wrong, for a person to act on."}},
                         examples=[{"error": "no touchpoint type 999 in account 100"}]),
        "Count": {"type": "integer", "minimum": 0,
                  "description": "With `count=true`: the size of the whole list, as a bare JSON integer."},
        "True": {"const": True, "description": "DELETE and clear operations answer the JSON literal `true`."},
        "TouchpointType": _object({
            "account_id": _ID,
            "touchpoint_type_id": _ID,
            "type_name": _TEXT,
            "display_name": _TEXT,
            "created_at": _schema("Date"),
        }, examples=[{"account_id": 100, "touchpoint_type_id": 300, "type_name": "visited_website",
                      "display_name": "Visited Website", "created_at": "@D:2025-11-24T10:23:10"}]),
        "TouchpointTypeInput": {
            "type": "object",
            "properties": {
                "type_name": {**_TEXT, "description": "Unique in the account (compared exactly)."},
                "display_name": {**_TEXT, "description": "A name for displaying the touchpoint in the UI."},
            },
            "required": ["type_name", "display_name"],
            # Not in the demo fixture, so "try it" on the dashboard succeeds as prefilled.
            "examples": [{"type_name": "opened_email", "display_name": "Opened Email"}],
        },
        "Touchpoint": _object({
            "account_id": _ID,
            "touchpoint_id": _ID,
            "member_id": _ID,
            "touchpoint_type_id": _ID,
            "touchpoint_timestamp": _schema("Date"),
            "touchpoint_monetary_value": {"type": ["number", "null"]},
            "mailing_id": _NULLABLE_INT,
            "attributes": {"type": ["object", "null"]},
            "inserted_at": _schema("Date"),
        }),
        "TouchpointInput": {
            "type": "object",
            "description": "One touchpoint to create: the member (`member_id` or `email`) and the type "
                           "(`touchpoint_type_id` or `type_name`) must name existing records of the account; "
                           "when both of a pair are given they must name the same record.",
            "properties": {
                "member_id": {"type": "integer"},
                "email": _TEXT,
                "touchpoint_type_id": {"type": "integer"},
                "type_name": _TEXT,
                "touchpoint_monetary_value": {"type": ["number", "null"]},
                "mailing_id": _NULLABLE_INT,
                "attributes": {"type": ["object", "null"]},
                "touchpoint_timestamp": {**_schema("RequestDate"),
                                         "description": "Default: now (the mock's clock)."},
            },
            "allOf": [{"anyOf": [{"required": ["member_id"]}, {"required": ["email"]}]},
                      {"anyOf": [{"required": ["touchpoint_type_id"]}, {"required": ["type_name"]}]}],
        },
        "TouchpointBatch": {
            "type": "object",
            "properties": {"touchpoints": {"type": "array", "minItems": 1, "maxItems": BATCH_LIMIT,
                                           "items": _schema("TouchpointInput")}},
            "required": ["touchpoints"],
            "examples": [{"touchpoints": [{"member_id": 444, "touchpoint_type_id": 300,
                                           "touchpoint_monetary_value": 8.0}]}],
        },
        "Member": _object(member),
        "AccountMember": _object({**member, "touchpoint_count": {
            "type": "integer", "minimum": 0, "description": "How many touchpoints the member has."}}),
        "MemberInput": {
            "type": "object",
            "properties": {
                "email": {"type": "string", "format": "email"},
                "fields": {"type": ["object", "null"],
                           "description": "Merged into the member's fields when the email already exists."},
            },
            "required": ["email"],
            "examples": [{"email": "dan.brown@example.com", "fields": {"first_name": "Dan"}}],
        },
        "MemberAdded": _object({
            "member_id": _ID,
            "added": {"type": "boolean", "description": "false when the email already existed."},
            "status": {"const": "a"},
        }),
        "Account": _object({
            "account_id": _ID,
            "public_key": _TEXT,
            "private_key": _TEXT,
            "name": _TEXT,
        }),
        "State": {
            "type": "object",
            "description": "The whole state as a fixture document.",
            "properties": {
                "accounts": {"type": "array", "items": _schema("Account")},
                "members": {"type": "array", "items": _schema("Member")},
                "touchpoint_types": {"type": "array", "items": _schema("TouchpointType")},
                "touchpoints": {"type": "array", "items": _schema("Touchpoint")},
            },
            "required": list(COLLECTIONS),
            "additionalProperties": False,
        },
        "StateInput": {
            "type": "object",
            "description": "A fixture document, checked whole as at load (types, unique ids, unique "
                           "`type_name` and email per account, references inside one account); any "
                           "problem is a 400 naming the collection, index and field, and nothing changes.",
            "properties": {name: {"type": "array", "items": {"type": "object"}}
                           for name in COLLECTIONS},
            "additionalProperties": False,
        },
        "AdminIndex": _object({
            "endpoints": {"type": "array", "items": _object({
                "method": {"type": "string"}, "path": {"type": "string"}, "help": {"type": "string"}})},
            "openapi": {"type": "string"},
        }),
        "JournalEntry": _object({
            "id": {"type": "integer", "minimum": 1,
                   "description": "Increases for the life of the process; not restarted by clear or reset."},
            "method": {"type": "string"},
            "path": {"type": "string"},
            "query": {"type": "object", "additionalProperties": {
                "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
                "description": "A list for a repeated parameter."},
            "headers": {"type": "object", "additionalProperties": {"type": "string"},
                        "description": "Request headers; credentials masked as `***`."},
            "body": {"description": "The JSON body, the text when not JSON, or null."},
            "status": {"type": ["integer", "null"], "description": "null when the connection was dropped."},
            "duration_ms": {"type": "number", "minimum": 0},
            "time": _schema("Date"),
            "response_headers": {"type": "object", "additionalProperties": {"type": "string"},
                                 "description": "The answer's headers (empty when the connection was dropped)."},
            "response_body": {"description": "The answer's JSON, the text when not JSON, or null."},
            "fault": {"type": ["integer", "null"],
                      "description": "The id of the fault that answered or delayed the request, else null."},
        }),
        "Changes": _object({
            "state": {"type": "integer", "description": "Moves on each committed write, reset, state upload."},
            "requests": {"type": "integer", "minimum": 0,
                         "description": "The id of the newest journal entry, 0 if none."},
            "controls": {"type": "integer", "description": "Moves when faults, clock or rate limit change."},
            "cleared": {"type": "integer", "minimum": 0,
                        "description": "Moves when the journal is emptied (DELETE, reset)."},
        }),
        "Fault": _object({
            "id": _ID,
            "method": {"type": ["string", "null"]},
            "path": {"type": ["string", "null"]},
            "status": _NULLABLE_INT,
            "body": {"description": "The body to answer with; null: an Emma-shaped `{\"error\": ...}`."},
            "delay_ms": {"anyOf": [{"type": "number"},
                                   {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2},
                                   {"type": "null"}]},
            "action": {"enum": ["respond", "drop", None]},
            "times": {"type": ["integer", "null"], "minimum": 0,
                      "description": "Matches left; null: always; 0: used up."},
            "probability": {"type": ["number", "null"]},
            "seed": {"type": ["integer", "string", "null"]},
            "matched": {"type": "integer", "minimum": 0},
            "active": {"type": "boolean",
                       "description": "false once it has used up its `times`: listed, but it no longer fires."},
        }),
        "FaultInput": {
            "type": "object",
            "properties": {
                "method": {**_TEXT, "examples": ["POST"]},
                "path": {"type": "string", "pattern": "^/", "minLength": 1, "maxLength": MAX_GLOB,
                         "description": "A glob on the request path.",
                         "examples": ["/100/touchpoints*"]},
                "status": {"type": "integer", "minimum": 200, "maximum": 599},
                "body": {"description": "Default: `{\"error\": \"Injected fault ...\"}`."},
                "delay_ms": {"anyOf": [
                    {"type": "number", "minimum": 0, "maximum": MAX_DELAY_MS},
                    {"type": "array", "minItems": 2, "maxItems": 2,
                     "items": {"type": "number", "minimum": 0, "maximum": MAX_DELAY_MS},
                     "description": "[min, max] for a random delay; min <= max."}]},
                "action": {"enum": ["respond", "drop"]},
                "times": {"type": "integer", "minimum": 1, "description": "Absent: always."},
                "probability": {"type": "number", "minimum": 0, "maximum": 1},
                "seed": {"type": ["integer", "string"]},
            },
            "anyOf": [{"required": ["status"]}, {"required": ["delay_ms"]}, {"required": ["action"]}],
            "additionalProperties": False,
            "examples": [{"method": "POST", "path": "/100/touchpoints*", "status": 503, "times": 1}],
        },
        "Clock": _object({"now": _schema("Date"), "frozen": {"type": "boolean"}}),
        "ClockInput": {
            "oneOf": [
                {"type": "object", "properties": {"now": _schema("RequestDate")}, "required": ["now"],
                 "not": {"required": ["advance_seconds"]}},
                {"type": "object",
                 "properties": {"advance_seconds": {"type": "number", "minimum": 0, "maximum": MAX_ADVANCE_SECONDS}},
                 "required": ["advance_seconds"], "not": {"required": ["now"]}},
            ],
            "examples": [{"now": "@D:2026-01-01T00:00:00"}, {"advance_seconds": 3600}],
        },
        "RateLimit": _object({"requests": {"type": "integer", "minimum": 1},
                              "per_seconds": {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_WINDOW_SECONDS}}),
        "RateLimitInput": {
            "type": "object",
            "properties": {"requests": {"type": "integer", "minimum": 1},
                           "per_seconds": {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_WINDOW_SECONDS}},
            "required": ["requests", "per_seconds"],
            "examples": [{"requests": 10, "per_seconds": 1}],
        },
        "Status": _object({"status": {"type": "string"}}),
    }


def _error(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description, "content": _json(_schema("Error"))}
    if headers:
        response["headers"] = headers
    return response


def _responses() -> dict[str, Any]:
    return {
        "BadRequest": _error("Invalid request: malformed JSON (NaN and Infinity included), a missing or "
                             "mistyped field, bad paging values (non-integer, negative, `end` < `start`)."),
        "Unauthorized": _error(
            "No or unknown credentials (HTTP Basic: public API key as the user name, private key as "
            "the password).",
            {"WWW-Authenticate": {"required": True, "schema": {"const": 'Basic realm="Emma API"'}}}),
        "Forbidden": _error(
            "Valid credentials of another account; or past the rate limit (`Rate Limit Exceeded`, with "
            "`Retry-After`).",
            {"Retry-After": {"description": "Seconds to wait; sent with `Rate Limit Exceeded`.",
                             "schema": {"type": "string", "pattern": "^[0-9]+$"}}}),
        "NotFound": _error("No such record in this account (another account's records are invisible), "
                           "no such account (with auth off), or no such path."),
        "MethodNotAllowed": _error(
            "The path exists but does not serve this verb (never sent for the verbs documented here); "
            "`Allow` lists the verbs it serves.",
            {"Allow": {"required": True, "schema": {"type": "string"}}}),
        "PayloadTooLarge": _error(f"The request body is over {MAX_BODY_BYTES // 2**20} MiB."),
        "StorageFailed": _error("The database file (`--db`) could not be written; nothing was changed."),
        "AdminUnauthorized": _error(
            "`MOCKSERVER_ADMIN_TOKEN` is set and the request did not send it "
            "(`X-Admin-Token: <token>` or `Authorization: Bearer <token>`).",
            {"WWW-Authenticate": {"required": True, "schema": {"type": "string"}}}),
    }


def _parameters() -> dict[str, Any]:
    def path(name: str, description: str, example: Any, schema: dict[str, Any] | None = None) -> dict[str, Any]:
        return {"name": name, "in": "path", "required": True, "description": description,
                "schema": schema or {"type": "integer", "minimum": 0}, "example": example}

    def query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
        return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}

    return {
        "AccountId": path("account_id", "The numeric account id; the credentials must belong to it.", 100),
        "TouchpointTypeId": path("touchpoint_type_id", "A touchpoint type of the account.", 300),
        "MemberId": path("member_id", "A member of the account.", 444),
        "TouchpointId": path("touchpoint_id", "A touchpoint of the account.", 3),
        "Email": path("email", "A member's email, compared case-insensitively.", "ann.smith@example.com",
                      {"type": "string", "minLength": 1}),
        "AdminAccountId": path("account_id", "An account of the state (no credentials needed).", 100),
        "AdminMemberId": path("member_id", "A member of that account.", 444),
        "FaultId": path("fault_id", "The id `POST /__admin/faults` answered.", 1),
        "Start": query("start", "Index of the first item (default 0).", {"type": "integer", "minimum": 0}),
        "End": query("end", f"Index past the last item (default start + {PAGE_LIMIT}; a page holds at most "
                            f"{PAGE_LIMIT} items, a larger `end` is cut). Must not be less than `start`.",
                     {"type": "integer", "minimum": 0}),
        "Count": query("count", "`true` (also `True`, `1`): answer the size of the whole list as a bare "
                                "integer, ignoring `start` and `end`. Any other value lists.",
                       {"type": "string", "enum": [*sorted(TRUE_FLAGS), "false"]}),
    }


_PAGING = [_ref("parameters", "Start"), _ref("parameters", "End"), _ref("parameters", "Count")]


def _ok(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": _json(schema)}


def _page_of(item: str) -> dict[str, Any]:
    return {"oneOf": [{"type": "array", "maxItems": PAGE_LIMIT, "items": _schema(item)}, _schema("Count")]}


def _api(endpoint: str, summary: str, tag: str, ok: dict[str, Any], *, params: list[str],
         body: str | None = None, paging: bool = False, writes: bool = False,
         bad_request: bool = False) -> dict[str, Any]:
    """An operation under `/{account_id}`: HTTP Basic; 401/403 come before 404/405/400."""
    responses: dict[str, Any] = {"200": ok}
    if body or paging or bad_request:
        responses["400"] = _ref("responses", "BadRequest")
    responses["401"] = _ref("responses", "Unauthorized")
    responses["403"] = _ref("responses", "Forbidden")
    responses["404"] = _ref("responses", "NotFound")
    responses["405"] = _ref("responses", "MethodNotAllowed")
    if body:
        responses["413"] = _ref("responses", "PayloadTooLarge")
    if writes:
        responses["503"] = _ref("responses", "StorageFailed")
    operation: dict[str, Any] = {
        "operationId": endpoint, "summary": summary, "tags": [tag],
        "security": [{"basicAuth": []}],
        "parameters": [_ref("parameters", p) for p in ["AccountId", *params]] + (_PAGING if paging else []),
        "responses": dict(sorted(responses.items())),
    }
    if body:
        operation["requestBody"] = {
            "required": True,
            "description": "JSON, parsed as such whatever the Content-Type says (or without one).",
            "content": _json(_schema(body)),
        }
    return operation


def _admin(endpoint: str, summary: str, ok: dict[str, Any], *, params: list[str] | None = None,
           query: list[dict[str, Any]] | None = None, body: str | None = None, open_: bool = False,
           not_found: bool = False, writes: bool = False, bad_query: bool = False) -> dict[str, Any]:
    """A control operation under `/__admin`: no account auth; the admin token when one is set."""
    responses: dict[str, Any] = {"200": ok}
    if body or bad_query:
        responses["400"] = _ref("responses", "BadRequest")
    if not open_:
        responses["401"] = _ref("responses", "AdminUnauthorized")
    if not_found:
        responses["404"] = _ref("responses", "NotFound")
    responses["405"] = _ref("responses", "MethodNotAllowed")
    if writes:
        responses["503"] = _ref("responses", "StorageFailed")
    operation: dict[str, Any] = {
        "operationId": endpoint, "summary": summary, "tags": ["Control"],
        "security": [] if open_ else [{}, {"adminToken": []}],
        "responses": dict(sorted(responses.items())),
    }
    parameters = [_ref("parameters", p) for p in params or []] + list(query or [])
    if parameters:
        operation["parameters"] = parameters
    if body:
        operation["requestBody"] = {"required": True, "content": _json(_schema(body))}
    return operation


def _paths() -> dict[str, Any]:
    types, touchpoints, members = "Touchpoint types", "Touchpoints", "Members"
    true = _ok("Done: the JSON literal `true`.", _schema("True"))
    journal_filters: list[dict[str, Any]] = [
        {"name": "method", "in": "query", "required": False, "description": "Only this verb (any case).",
         "schema": {"type": "string"}},
        {"name": "path", "in": "query", "required": False, "description": "Only this path, or paths matching "
                                                                          "this glob.", "schema": {"type": "string"}},
        {"name": "status", "in": "query", "required": False, "description": "Only answers with this status.",
         "schema": {"type": "integer"}},
        {"name": "after", "in": "query", "required": False,
         "description": "Only entries whose `id` is above this one (what a poller saw last).",
         "schema": {"type": "integer", "minimum": 0}},
        _ref("parameters", "Count"),
    ]
    return {
        "/{account_id}/touchpoints": {
            "get": _api("touchpoint_types.list_touchpoint_types",
                        "List the account's touchpoint types, oldest `created_at` first (ties by id)", types,
                        _ok("A page of touchpoint types, or their count.", _page_of("TouchpointType")),
                        params=[], paging=True),
            "post": _api("touchpoint_types.create_touchpoint_type", "Create a touchpoint type", types,
                         _ok("The new touchpoint type.", _schema("TouchpointType")),
                         params=[], body="TouchpointTypeInput", writes=True),
        },
        "/{account_id}/touchpoints/{touchpoint_type_id}": {
            "get": _api("touchpoint_types.get_touchpoint_type", "Get a touchpoint type", types,
                        _ok("The touchpoint type.", _schema("TouchpointType")), params=["TouchpointTypeId"]),
            "put": _api("touchpoint_types.update_touchpoint_type",
                        "Update a touchpoint type (both fields required; `created_at` unchanged)", types,
                        _ok("The updated touchpoint type.", _schema("TouchpointType")),
                        params=["TouchpointTypeId"], body="TouchpointTypeInput", writes=True),
            "delete": _api("touchpoint_types.delete_touchpoint_type",
                           "Delete a touchpoint type and every touchpoint of that type", types, true,
                           params=["TouchpointTypeId"], writes=True),
        },
        "/{account_id}/touchpoints/members": {
            "post": _api("touchpoints.create_touchpoints", f"Create 1 to {BATCH_LIMIT} touchpoints, all or none",
                         touchpoints,
                         _ok("The created touchpoints, in request order.",
                             {"type": "array", "minItems": 1, "maxItems": BATCH_LIMIT, "items": _schema("Touchpoint")}),
                         params=[], body="TouchpointBatch", writes=True),
        },
        "/{account_id}/touchpoints/members/{member_id}": {
            "get": _api("touchpoints.list_member_touchpoints",
                        "List a member's touchpoints by `touchpoint_timestamp`, then id", touchpoints,
                        _ok("A page of the member's touchpoints (possibly empty), or their count.",
                            _page_of("Touchpoint")),
                        params=["MemberId"], paging=True),
        },
        "/{account_id}/touchpoints/members/touchpoints/{touchpoint_id}": {
            "get": _api("touchpoints.get_touchpoint", "Get a touchpoint", touchpoints,
                        _ok("The touchpoint.", _schema("Touchpoint")), params=["TouchpointId"]),
            "delete": _api("touchpoints.delete_touchpoint", "Delete a touchpoint", touchpoints, true,
                           params=["TouchpointId"], writes=True),
        },
        "/{account_id}/members": {
            "get": _api("members.list_members", "List the account's members in id order", members,
                        _ok("A page of members, or their count.", _page_of("Member")), params=[], paging=True),
        },
        "/{account_id}/members/add": {
            "post": _api("members.add_member",
                         "Add a member, or merge fields into the member with that email", members,
                         _ok("The member's id and whether it is new.", _schema("MemberAdded")),
                         params=[], body="MemberInput", writes=True),
        },
        "/{account_id}/members/{member_id}": {
            "get": _api("members.get_member", "Get a member", members,
                        _ok("The member.", _schema("Member")), params=["MemberId"]),
            "delete": _api("members.delete_member", "Delete a member and the member's touchpoints", members,
                           true, params=["MemberId"], writes=True),
        },
        "/{account_id}/members/email/{email}": {
            "get": _api("members.get_member_by_email", "Get a member by email (case-insensitive)", members,
                        _ok("The member.", _schema("Member")), params=["Email"]),
        },
        "/__admin/openapi.json": {
            "get": _admin("admin.openapi", "The OpenAPI 3.1 document of everything served",
                          _ok("The OpenAPI document.", {"type": "object"}),
                          open_=True),
        },
        "/__admin": {
            "get": _admin("admin.index", "This list: each endpoint of the control API with a line of help",
                          _ok("The endpoints.", _schema("AdminIndex")), open_=True),
        },
        "/__admin/health": {
            "get": _admin("admin.health", "Liveness", _ok("`{\"status\": \"ok\"}`", _schema("Status")),
                          open_=True),
        },
        "/__admin/reset": {
            "post": _admin("admin.reset",
                           "Back to the loaded fixtures: data, id sequences, journal, faults, clock, rate limit",
                           _ok("`{\"status\": \"reset\"}`", _schema("Status")), writes=True),
        },
        "/__admin/state": {
            "get": _admin("admin.get_state", "The whole state as a fixture document",
                          _ok("The state.", _schema("State"))),
            "put": _admin("admin.put_state", "Replace the whole state with a fixture document",
                          _ok("The new state.", _schema("State")), body="StateInput", writes=True),
        },
        "/__admin/accounts": {
            "get": _admin("admin.list_accounts", "A page of the accounts with their keys, in id order",
                          _ok("A page of accounts, or their count.", _page_of("Account")),
                          query=_PAGING, bad_query=True),
        },
        "/__admin/accounts/{account_id}": {
            "get": _admin("admin.get_account", "One account with its keys",
                          _ok("The account.", _schema("Account")), params=["AdminAccountId"], not_found=True),
        },
        "/__admin/accounts/{account_id}/touchpoints": {
            "get": _admin("admin.list_account_types",
                          "A page of an account's touchpoint types, oldest `created_at` first (ties by id)",
                          _ok("A page of touchpoint types, or their count.", _page_of("TouchpointType")),
                          params=["AdminAccountId"], query=_PAGING, bad_query=True, not_found=True),
        },
        "/__admin/accounts/{account_id}/members": {
            "get": _admin("admin.list_account_members",
                          "A page of an account's members in id order, each with its touchpoint count",
                          _ok("A page of members, or their count.", _page_of("AccountMember")),
                          params=["AdminAccountId"], query=_PAGING, bad_query=True, not_found=True),
        },
        "/__admin/accounts/{account_id}/members/{member_id}/touchpoints": {
            "get": _admin("admin.list_account_member_touchpoints",
                          "A page of a member's touchpoints by `touchpoint_timestamp`, then id",
                          _ok("A page of the member's touchpoints, or their count.", _page_of("Touchpoint")),
                          params=["AdminAccountId", "AdminMemberId"], query=_PAGING, bad_query=True,
                          not_found=True),
        },
        "/__admin/requests": {
            "get": _admin("admin.list_requests", "The journal of API requests, oldest first",
                          _ok("The matching entries, or their count.",
                              {"oneOf": [{"type": "array", "items": _schema("JournalEntry")}, _schema("Count")]}),
                          query=journal_filters, bad_query=True),
            "delete": _admin("admin.clear_requests", "Empty the journal", true),
        },
        "/__admin/requests/export": {
            "get": _admin("admin.export_requests",
                          "The session since the last reset as a pytest module that replays it",
                          {"description": "A pytest module (`text/x-python`) that replays every API request of the "
                                          "session in order, with the controls between them, the clock frozen at "
                                          "each request's recorded time, and checks each status and body.",
                           "headers": {"Content-Disposition": {
                               "description": f"`attachment; filename=\"{EXPORT_FILENAME}\"`",
                               "schema": {"type": "string"}}},
                           "content": {EXPORT_CONTENT_TYPE: {"schema": {"type": "string"}}}},
                          query=[{"name": "until", "in": "query", "required": False,
                                  "description": "Stop after this journal entry (its `id`).",
                                  "schema": {"type": "integer", "minimum": 0}}],
                          bad_query=True, not_found=True),
        },
        "/__admin/changes": {
            "get": _admin("admin.changes", "Counters that move when state, journal or controls change "
                                           "(cheap to poll; the dashboard does)",
                          _ok("The counters.", _schema("Changes"))),
        },
        "/__admin/faults": {
            "get": _admin("admin.list_faults", "The active faults",
                          _ok("The faults.", {"type": "array", "items": _schema("Fault")})),
            "post": _admin("admin.add_fault", "Add a fault (answers API requests before authentication)",
                           _ok("The fault, with its id.", _schema("Fault")), body="FaultInput"),
            "delete": _admin("admin.clear_faults", "Remove every fault", true),
        },
        "/__admin/faults/{fault_id}": {
            "delete": _admin("admin.delete_fault", "Remove one fault", true, params=["FaultId"], not_found=True),
        },
        "/__admin/clock": {
            "get": _admin("admin.get_clock", "What \"now\" is, and whether it is frozen",
                          _ok("The clock.", _schema("Clock"))),
            "put": _admin("admin.set_clock", "Freeze \"now\" (`now`) or move it forward (`advance_seconds`)",
                          _ok("The clock.", _schema("Clock")), body="ClockInput"),
            "delete": _admin("admin.real_clock", "Back to real time", _ok("The clock.", _schema("Clock"))),
        },
        "/__admin/rate-limit": {
            "get": _admin("admin.get_rate_limit", "The rate limit in force, or null",
                          _ok("The rate limit, or null.", {"anyOf": [_schema("RateLimit"), {"type": "null"}]})),
            "put": _admin("admin.set_rate_limit", "Allow at most `requests` per `per_seconds` per account",
                          _ok("The rate limit.", _schema("RateLimit")), body="RateLimitInput"),
            "delete": _admin("admin.clear_rate_limit", "Remove the rate limit", true),
        },
    }


def _build() -> dict[str, Any]:
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Emma touchpoints API (emma-mock)",
            "version": "1.0.0",
            "summary": "The Emma touchpoints endpoints as the mock serves them, plus its `/__admin` control API.",
            "description": (
                "Every response, errors included, is `application/json`; errors are `{\"error\": \"...\"}`. "
                "Success is 200 for every verb; DELETE answers `true`. Under `/{account_id}` authentication "
                "(HTTP Basic) comes first: 401/403 before 404/405/400. Dates in responses are "
                "`@D:YYYY-MM-DDTHH:MM:SS` (UTC). Lists page with `start`/`end` (at most "
                f"{PAGE_LIMIT} items) and answer a bare integer with `count=true`. Faults injected through "
                "`/__admin/faults` may answer API requests with any status and body; they are not "
                "described per operation."
            ),
        },
        "tags": [
            {"name": "Touchpoint types"}, {"name": "Touchpoints"},
            {"name": "Members", "description": "The subset of the members API that touchpoints need."},
            {"name": "Control", "description": "The mock's control API for tests; not part of the real API."},
        ],
        "paths": _paths(),
        "components": {
            "schemas": _schemas(),
            "responses": _responses(),
            "parameters": _parameters(),
            "securitySchemes": {
                "basicAuth": {"type": "http", "scheme": "basic",
                              "description": "Public API key as the user name, private key as the password."},
                "adminToken": {"type": "apiKey", "in": "header", "name": "X-Admin-Token",
                               "description": "Only when `MOCKSERVER_ADMIN_TOKEN` is set "
                                              "(`Authorization: Bearer <token>` works too)."},
            },
        },
    }


_DOCUMENT = _build()


def document() -> dict[str, Any]:
    """The OpenAPI document: a fresh copy, safe for the caller to modify."""
    return copy.deepcopy(_DOCUMENT)


def admin_endpoints() -> list[dict[str, str]]:
    """`{"method", "path", "help"}` of every control API operation, from this document."""
    return [{"method": method.upper(), "path": path, "help": operation["summary"]}
            for path, operations in _DOCUMENT["paths"].items() if path.startswith("/__admin")
            for method, operation in operations.items()]
