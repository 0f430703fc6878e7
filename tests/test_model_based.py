"""Model-based testing: a hypothesis state machine drives the API and a reference model side by side.

The model below is written from the behaviour contract alone (not from the server's code):
plain dicts of records, the rules of each endpoint, and the wire conventions
(auth first, paging, `@D:` dates, all-or-nothing batches, cascades). Every
answer of the server (status and body) is compared with the model's, and after
every step the whole state (GET /__admin/state) is too.

Where the contract leaves a choice open the model accepts every reading (noted beside
each case) rather than copy the server:
* ids: the contract asks one increasing sequence per kind, never reused, above the
  fixtures' ids; the model checks that and adopts the id the server chose.
* two errors at once (a bad body for an id that does not exist, bad paging for
  a member that does not exist): 400 or 404.
* a batch with several bad items: the message must name one of them.
* members' list order: the contract is silent; the model expects id order.

Deterministic (derandomize) so CI never flakes: 60 examples of up to 50 steps in the
default run; `-m slow` (CI runs it too) 150 of up to 80, four times more.
"""
from __future__ import annotations

import base64
import copy
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from mockserver import Config, create_app

from helpers import DEFAULT_FIXTURE, strict_json

START = datetime(2030, 1, 1, tzinfo=UTC)
PAGE_LIMIT = 500
MISSING = object()
COUNTERS = {"steps": 0, "requests": 0, "examples": 0, "created": 0}


# --- the reference model, from the contract -------------------------------------------------------

def fmt(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return moment.strftime("@D:%Y-%m-%dT%H:%M:%S")


_EMMA_DATE = re.compile(r"@D:(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?")


def model_date(value: Any) -> str | None:
    """Dates: `@D:YYYY-MM-DDTHH:MM:SS`, or ISO 8601 with optional fraction and Z/±HH:MM; else None."""
    if not isinstance(value, str):
        return None
    match = _EMMA_DATE.fullmatch(value)
    offset = None
    if match is None:
        match = _ISO_DATE.fullmatch(value)
        if match is None:
            return None
        offset = match.group(8)
    try:
        moment = datetime(*map(int, match.group(1, 2, 3, 4, 5, 6)), tzinfo=UTC)
    except ValueError:
        return None
    if offset and offset != "Z":
        sign = 1 if offset[0] == "+" else -1
        moment -= sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6]))
    return fmt(moment)


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_text(value: Any) -> bool:
    return isinstance(value, str) and value != ""


class Model:
    """The state the contract describes, and what each request must answer."""

    def __init__(self, document: dict) -> None:
        self.load(document)

    def load(self, document: dict) -> None:
        self.accounts = {a["account_id"]: dict(a) for a in document["accounts"]}
        self.types = {t["touchpoint_type_id"]: dict(t) for t in document["touchpoint_types"]}
        self.members = {m["member_id"]: {**m, "status": "active", "fields": m.get("fields", {})}
                        for m in document["members"]}
        self.touchpoints = {t["touchpoint_id"]: dict(t) for t in document["touchpoints"]}
        # ids are never reused until the whole state is replaced
        self.max_ids = {"types": max(self.types, default=0), "members": max(self.members, default=0),
                        "touchpoints": max(self.touchpoints, default=0)}

    def document(self) -> dict:
        return {"accounts": sorted(self.accounts.values(), key=lambda r: r["account_id"]),
                "members": sorted(self.members.values(), key=lambda r: r["member_id"]),
                "touchpoint_types": sorted(self.types.values(), key=lambda r: r["touchpoint_type_id"]),
                "touchpoints": sorted(self.touchpoints.values(), key=lambda r: r["touchpoint_id"])}

    def keys_of(self, account_id: int) -> tuple[str, str]:
        account = self.accounts[account_id]
        return account["public_key"], account["private_key"]

    # lookups inside one account
    def type_in(self, account_id: int, type_id: Any) -> dict | None:
        record = self.types.get(type_id) if is_int(type_id) else None
        return record if record and record["account_id"] == account_id else None

    def type_named(self, account_id: int, name: str) -> dict | None:
        return next((t for t in self.types.values() if t["account_id"] == account_id and t["type_name"] == name), None)

    def member_in(self, account_id: int, member_id: Any) -> dict | None:
        record = self.members.get(member_id) if is_int(member_id) else None
        return record if record and record["account_id"] == account_id else None

    def member_by_email(self, account_id: int, email: str) -> dict | None:
        return next((m for m in self.members.values()
                     if m["account_id"] == account_id and m["email"].lower() == email.lower()), None)

    def types_of(self, account_id: int) -> list[dict]:
        return sorted((t for t in self.types.values() if t["account_id"] == account_id),
                      key=lambda t: (t["created_at"], t["touchpoint_type_id"]))

    def members_of(self, account_id: int) -> list[dict]:
        return sorted((m for m in self.members.values() if m["account_id"] == account_id),
                      key=lambda m: m["member_id"])

    def touchpoints_of(self, member_id: int) -> list[dict]:
        return sorted((t for t in self.touchpoints.values() if t["member_id"] == member_id),
                      key=lambda t: (t["touchpoint_timestamp"], t["touchpoint_id"]))

    def cascade(self, field: str, value: int) -> None:
        for touchpoint_id in [i for i, t in self.touchpoints.items() if t[field] == value]:
            del self.touchpoints[touchpoint_id]


def model_page(query: dict[str, str], items: list) -> tuple[int, Any]:
    """Paging: `start` (0), `end` (start+500), at most 500; `count=true|True|1` gives the total."""
    if query.get("count") in ("true", "True", "1"):
        return 200, len(items)

    def index(name: str, default: int) -> int | None:
        raw = query.get(name)
        if raw is None:
            return default
        return int(raw) if re.fullmatch(r"[0-9]+", raw) else None

    start = index("start", 0)
    if start is None:
        return 400, None
    end = index("end", start + PAGE_LIMIT)
    if end is None or end < start:
        return 400, None
    return 200, items[start:min(end, start + PAGE_LIMIT)]


# --- strategies -----------------------------------------------------------------------------

ACCOUNTS = st.sampled_from([100, 100, 100, 101, 101, 999])
WHO = st.sampled_from(["own"] * 12 + ["none", "wrong", "other"])
PAGING = st.one_of(st.just({}), st.fixed_dictionaries({}, optional={
    "start": st.sampled_from(["0", "1", "2", "3", "7", "-1", "x", "1.5", ""]),
    "end": st.sampled_from(["0", "1", "2", "4", "1000", "-3", "y"]),
    "count": st.sampled_from(["true", "True", "1", "false", "0", "yes"]),
    "unknown": st.just("ignored"),
}))
TYPE_NAMES = st.sampled_from(["visited_website", "purchased_tickets", "opened_app", "alpha", "Alpha", "beta",
                              "gamma", "", 5, None, MISSING])
DISPLAY_NAMES = st.sampled_from(["Alpha", "Beta", "Ünïcode ✓", "", 7, None, MISSING])
EMAILS = st.sampled_from(["ann.smith@example.com", "ANN.SMITH@example.com", "bob.jones@example.com",
                          "carol.white@example.org", "new1@example.com", "New1@Example.COM", "new2@example.org",
                          "third@example.net", "not-an-email", "", 5, None, MISSING])
FIELDS = st.sampled_from([MISSING, {}, {"first_name": "Zed"}, {"score": 3}, {"first_name": "Ann", "vip": True},
                          "not-an-object", [1]])
CONTENT_TYPES = st.sampled_from([None, "application/json", "text/plain", "application/x-www-form-urlencoded"])
OFFSETS = st.sampled_from(["", "Z", "+00:00", "+02:00", "-05:30", "+23:59", "-11:00"])
FRACTIONS = st.sampled_from(["", ".0", ".000", ".123", ".4", ".49"])
BAD_DATES = st.sampled_from(["2025-12-02", "2025-12-02T11:23", "2025-12-02 11:23:47", "2025-12-02T11:23:47+0200",
                             "20251202T112347Z", "@D:2025-12-02 11:23:47", "@D:2025-12-02T11:23:47Z",
                             "2025-02-30T10:00:00", "2025-12-02T25:00:00", "", "now", 5, [2025]])


@st.composite
def timestamps(draw) -> Any:
    if draw(st.integers(0, 5)) == 0:
        return draw(BAD_DATES)
    moment = draw(st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2031, 12, 31)))
    if draw(st.booleans()):
        return moment.strftime("@D:%Y-%m-%dT%H:%M:%S")
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + draw(FRACTIONS) + draw(OFFSETS)


def maybe(strategy, missing_weight: int = 1):
    return st.one_of(*([st.just(MISSING)] * missing_weight), strategy)


def put(body: dict, name: str, value: Any) -> None:
    if value is not MISSING:
        body[name] = value


# --- the state machine ------------------------------------------------------------------------

class EmmaMachine(RuleBasedStateMachine):
    app = None  # one app for the whole run; reset before each example

    def __init__(self) -> None:
        super().__init__()
        if EmmaMachine.app is None:
            EmmaMachine.app = create_app(Config())
        self.client = EmmaMachine.app.test_client()
        with open(DEFAULT_FIXTURE, encoding="utf-8") as handle:
            self.fixture = json.load(handle)
        self.model = Model(self.fixture)
        self.now = START
        self.seen = {"types": set(self.model.types), "members": set(self.model.members),
                     "touchpoints": set(self.model.touchpoints)}
        COUNTERS["examples"] += 1

    # --- talking to the server ---

    def admin(self, method: str, path: str, body: Any = MISSING) -> Any:
        kwargs = {} if body is MISSING else {"json": body}
        response = self.client.open(f"/__admin/{path}", method=method, **kwargs)
        assert response.status_code == 200, (path, response.status_code, response.get_data())
        return strict_json(response.get_data())

    def call(self, data, method: str, path: str, account: int, who: str, body: Any = MISSING,
             query: dict | None = None, raw: bytes | None = None):
        """Send one API request; the answer as (status, parsed body, response)."""
        COUNTERS["requests"] += 1
        headers = {}
        keys = None
        if who == "own":
            keys = self.model.keys_of(account if account in self.model.accounts else 100)
        elif who == "other":
            keys = self.model.keys_of(101 if account == 100 else 100)
        elif who == "wrong":
            keys = ("demo-public-key", "not-the-private-key")
        if keys:
            headers["Authorization"] = "Basic " + base64.b64encode(":".join(keys).encode()).decode()
        content_type = data.draw(CONTENT_TYPES, label="content type")
        if content_type:
            headers["Content-Type"] = content_type
        if data.draw(st.integers(0, 9), label="slash") == 0:
            path += "/"  # a trailing slash is accepted
        payload = raw if raw is not None else (None if body is MISSING else json.dumps(body).encode())
        response = self.client.open(path, method=method, headers=headers, data=payload, query_string=query or {})
        assert response.mimetype == "application/json", (path, response.mimetype)
        parsed = strict_json(response.get_data())
        if response.status_code >= 400:
            assert isinstance(parsed, dict) and set(parsed) == {"error"} and is_text(parsed["error"]), parsed
        if response.status_code == 401:
            assert response.headers.get("WWW-Authenticate") == 'Basic realm="Emma API"'
        return response.status_code, parsed, response

    def auth_failure(self, account: int, who: str) -> int | None:
        """Under an account path, authentication comes first (401, then 403)."""
        if who in ("none", "wrong"):
            return 401
        if who == "other" or account not in self.model.accounts:
            return 403
        return None

    def expect(self, status: int, answer: tuple, *, body: Any = MISSING, also: tuple[int, ...] = ()) -> None:
        got_status, got_body, _ = answer
        assert got_status in (status, *also), f"expected {status} {also or ''}, got {got_status}: {got_body}"
        if body is not MISSING and got_status == 200:
            assert got_body == body, f"\nexpected {body}\n     got {got_body}"

    def new_id(self, kind: str, value: Any) -> int:
        """A new id: an integer above every id of its kind issued since the state was last replaced."""
        assert is_int(value) and value > self.model.max_ids[kind], (kind, value, self.model.max_ids[kind])
        self.model.max_ids[kind] = value
        self.seen[kind].add(value)
        return value

    def pick(self, data, kind: str) -> int:
        pool = sorted(self.seen[kind] | {999_999})
        return data.draw(st.sampled_from(pool), label=f"{kind} id")

    def check_paging_and_auth(self, account: int, who: str, answer: tuple, query: dict, items_or_404) -> None:
        failure = self.auth_failure(account, who)
        if failure:
            return self.expect(failure, answer)
        if items_or_404 is None:
            status, _ = model_page(query, [])
            return self.expect(404, answer, also=(400,) if status == 400 else ())
        status, expected = model_page(query, items_or_404)
        self.expect(status, answer, body=expected)

    # --- set-up and invariants ---

    @initialize()
    def start(self) -> None:
        self.admin("POST", "reset")
        self.admin("PUT", "clock", {"now": fmt(START)})

    @invariant()
    def whole_state_agrees(self) -> None:
        COUNTERS["steps"] += 1
        state = self.admin("GET", "state")
        for member in state["members"]:
            assert member.pop("status", "active") == "active"
        expected = copy.deepcopy(self.model.document())
        for member in expected["members"]:
            member.pop("status")
        for name, records in state.items():
            key = {"accounts": "account_id", "members": "member_id", "touchpoint_types": "touchpoint_type_id",
                   "touchpoints": "touchpoint_id"}[name]
            assert sorted(records, key=lambda r: r[key]) == expected[name], name
        for touchpoint in state["touchpoints"]:
            value = touchpoint["touchpoint_monetary_value"]
            assert value is None or isinstance(value, float)

    # --- touchpoint types ---

    @rule(data=st.data(), account=ACCOUNTS, who=WHO, type_name=TYPE_NAMES, display_name=DISPLAY_NAMES,
          shape=st.sampled_from(["object"] * 8 + ["list", "text", "bad-json", "empty"]))
    def create_type(self, data, account, who, type_name, display_name, shape):
        body: Any = {}
        put(body, "type_name", type_name)
        put(body, "display_name", display_name)
        raw = {"list": b"[]", "text": b'"x"', "bad-json": b'{"type_name": ', "empty": b""}.get(shape)
        answer = self.call(data, "POST", f"/{account}/touchpoints", account, who, body, raw=raw)
        failure = self.auth_failure(account, who)
        if failure:
            return self.expect(failure, answer)
        if raw is not None or not is_text(type_name) or not is_text(display_name) \
                or self.model.type_named(account, type_name):
            return self.expect(400, answer)
        self.expect(200, answer)
        type_id = self.new_id("types", answer[1].get("touchpoint_type_id"))
        record = {"account_id": account, "touchpoint_type_id": type_id, "type_name": type_name,
                  "display_name": display_name, "created_at": fmt(self.now)}
        self.expect(200, answer, body=record)
        self.model.types[type_id] = record

    @rule(data=st.data(), account=ACCOUNTS, who=WHO, query=PAGING)
    def list_types(self, data, account, who, query):
        answer = self.call(data, "GET", f"/{account}/touchpoints", account, who, query=query)
        self.check_paging_and_auth(account, who, answer, query, self.model.types_of(account))

    @rule(data=st.data(), account=ACCOUNTS, who=WHO)
    def get_type(self, data, account, who):
        type_id = self.pick(data, "types")
        answer = self.call(data, "GET", f"/{account}/touchpoints/{type_id}", account, who)
        failure = self.auth_failure(account, who)
        if failure:
            return self.expect(failure, answer)
        record = self.model.type_in(account, type_id)
        self.expect(200 if record else 404, answer, body=record)

    @rule(data=st.data(), account=ACCOUNTS, who=WHO, type_name=TYPE_NAMES, display_name=DISPLAY_NAMES)
    def update_type(self, data, account, who, type_name, display_name):
        type_id = self.pick(data, "types")
        body: dict = {}
        put(body, "type_name", type_name)
        put(body, "display_name", display_name)
        answer = self.call(data, "PUT", f"/{account}/touchpoints/{type_id}", account, who, body)
        failure = self.auth_failure(account, who)
        if failure:
            return self.expect(failure, answer)
        record = self.model.type_in(account, type_id)
        invalid = not is_text(type_name) or not is_text(display_name)
        if record is None:
            return self.expect(404, answer, also=(400,) if invalid else ())  # both wrong: either is right
        holder = self.model.type_named(account, type_name) if not invalid else None
        if invalid or (holder and holder is not record):
            return self.expect(400, answer)
        updated = {**record, "type_name": type_name, "display_name": display_name}  # created_at unchanged
        self.expect(200, answer, body=updated)
        self.model.types[type_id] = updated

    @rule(data=st.data(), account=ACCOUNTS, who=WHO)
    def delete_type(self, data, account, who):
        type_id = self.pick(data, "types")
        answer = self.call(data, "DELETE", f"/{account}/touchpoints/{type_id}", account, who)
        failure = self.auth_failure(account, who)
        if failure:
            return self.expect(failure, answer)
        if self.model.type_in(account, type_id) is None:
            return self.expect(404, answer)
        self.expect(200, answer, body=True)
        del self.model.types[type_id]
        self.model.cascade("touchpoint_type_id", type_id)

    # --- members ---

    @rule(data=st.data(), account=ACCOUNTS, who=WHO, email=EMAILS, fields=FIELDS)
    def add_member(self, data, account, who, email, fields):
        body: dict = {}
        put(body, "email", email)
        put(body, "fields", fields)
        answer = self.call(data, "POST", f"/{account}/members/add", account, who, body)
        failure = self.auth_failure(account, who)
        if failure:
            return self.expect(failure, answer)
        valid_email = isinstance(email, str) and re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]+", email, re.I)
        if not valid_email or (fields is not MISSING and not isinstance(fields, dict)):
            return self.expect(400, answer)
        fields = {} if fields is MISSING else fields
        existing = self.model.member_by_email(account, email)
        if existing:
            self.expect(200, answer, body={"member_id": existing["member_id"], "added": False, "status": "a"})
            existing["fields"] = {**existing["fields"], **fields}
            return
        self.expect(200, answer)
        member_id = self.new_id("members", answer[1].get("member_id"))
        self.expect(200, answer, body={"member_id": member_id, "added": True, "status": "a"})
        self.model.members[member_id] = {"account_id": account, "member_id": member_id, "email": email,
                                         "status": "active", "member_since": fmt(self.now), "fields": dict(fields)}

    @rule(data=st.data(), account=ACCOUNTS, who=WHO, query=PAGING)
    def list_members(self, data, account, who, query):
        answer = self.call(data, "GET", f"/{account}/members", account, who, query=query)
        self.check_paging_and_auth(account, who, answer, query, self.model.members_of(account))

    @rule(data=st.data(), account=ACCOUNTS, who=WHO)
    def get_member(self, data, account, who):
        member_id = self.pick(data, "members")
        answer = self.call(data, "GET", f"/{account}/members/{member_id}", account, who)
        failure = self.auth_failure(account, who)
        if failure:
            return self.expect(failure, answer)
        record = self.model.member_in(account, member_id)
        self.expect(200 if record else 404, answer, body=record)

    @rule(data=st.data(), account=ACCOUNTS, who=WHO,
          email=st.sampled_from(["ann.smith@example.com", "Ann.Smith@EXAMPLE.com", "carol.white@example.org",
                                 "new1@example.com", "NEW1@example.com", "nobody@example.com"]))
    def get_member_by_email(self, data, account, who, email):
        answer = self.call(data, "GET", f"/{account}/members/email/{email}", account, who)
        failure = self.auth_failure(account, who)
        if failure:
            return self.expect(failure, answer)
        record = self.model.member_by_email(account, email)
        self.expect(200 if record else 404, answer, body=record)

    @rule(data=st.data(), account=ACCOUNTS, who=WHO)
    def delete_member(self, data, account, who):
        member_id = self.pick(data, "members")
        answer = self.call(data, "DELETE", f"/{account}/members/{member_id}", account, who)
        failure = self.auth_failure(account, who)
        if failure:
            return self.expect(failure, answer)
        if self.model.member_in(account, member_id) is None:
            return self.expect(404, answer)
        self.expect(200, answer, body=True)
        del self.model.members[member_id]
        self.model.cascade("member_id", member_id)

    # --- touchpoints ---

    def draw_item(self, data, account: int, valid: bool) -> Any:
        """One batch item: with `valid`, only good values and references of this account; else anything."""
        own_members = [m for m in self.model.members.values() if m["account_id"] == account]
        own_types = [t for t in self.model.types.values() if t["account_id"] == account]
        if valid and own_members and own_types:
            member = data.draw(st.sampled_from(own_members), label="member")
            kind = data.draw(st.sampled_from(own_types), label="type")
            item = data.draw(st.sampled_from([
                {"member_id": member["member_id"]}, {"email": member["email"]},
                {"email": member["email"].upper()}, {"member_id": member["member_id"], "email": member["email"]}]))
            item.update(data.draw(st.sampled_from([
                {"touchpoint_type_id": kind["touchpoint_type_id"]}, {"type_name": kind["type_name"]},
                {"touchpoint_type_id": kind["touchpoint_type_id"], "type_name": kind["type_name"]}])))
            put(item, "touchpoint_monetary_value", data.draw(maybe(st.sampled_from([8, 49.5, 0, -2.25, None, 1e300]))))
            put(item, "mailing_id", data.draw(maybe(st.sampled_from([12345, 0, None]))))
            put(item, "attributes", data.draw(maybe(st.sampled_from([{}, {"tickets": 2}, {"n": {"a": [1, None]}},
                                                                      None]))))
            if data.draw(st.booleans(), label="timestamp given"):
                moment = data.draw(st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2031, 12, 31)))
                item["touchpoint_timestamp"] = (moment.strftime("%Y-%m-%dT%H:%M:%S") + data.draw(FRACTIONS)
                                                + data.draw(OFFSETS))
            return item
        shape = data.draw(st.integers(0, 30), label="item shape")
        if shape == 0:
            return data.draw(st.sampled_from([5, "x", [], None]), label="not an object")
        item: dict = {}
        members = sorted(self.seen["members"] | {999_999})
        member_ref = data.draw(st.sampled_from(["id"] * 6 + ["email"] * 3 + ["both", "neither", "string-id",
                                                                              "null-id", "bad-email"]))
        if member_ref in ("id", "both"):
            item["member_id"] = data.draw(st.sampled_from(members), label="member_id")
        if member_ref in ("email", "both"):
            candidates = sorted({m["email"] for m in self.model.members.values()} | {"ghost@example.com"})
            email = data.draw(st.sampled_from(candidates), label="email")
            item["email"] = email.upper() if data.draw(st.booleans(), label="upper") else email
        if member_ref == "string-id":
            item["member_id"] = str(data.draw(st.sampled_from(members)))
        if member_ref == "null-id":
            item["member_id"] = None
            item["email"] = "ann.smith@example.com"
        if member_ref == "bad-email":
            item["email"] = 5
        type_ref = data.draw(st.sampled_from(["id"] * 6 + ["name"] * 3 + ["both", "neither"]))
        if type_ref in ("id", "both"):
            item["touchpoint_type_id"] = data.draw(st.sampled_from(sorted(self.seen["types"] | {999_999})))
        if type_ref in ("name", "both"):
            names = sorted({t["type_name"] for t in self.model.types.values()} | {"no_such_type"})
            item["type_name"] = data.draw(st.sampled_from(names), label="type_name")
        put(item, "touchpoint_monetary_value",
            data.draw(maybe(st.sampled_from([8, 49.5, 0, -2.25, None, 1e300, True, "8"]), 3)))
        put(item, "mailing_id", data.draw(maybe(st.sampled_from([12345, 0, None, 1.5, "1", True]), 3)))
        put(item, "attributes", data.draw(maybe(st.sampled_from([{}, {"tickets": 2}, {"nested": {"a": [1, None]}},
                                                                  None, [], "x"]), 3)))
        put(item, "touchpoint_timestamp", data.draw(maybe(timestamps(), 2), label="timestamp"))
        return item

    def model_item(self, account: int, item: Any) -> tuple[dict | None, list[str]]:
        """One batch item resolved as the contract says, or the fields that make it wrong."""
        if not isinstance(item, dict):
            return None, []
        bad: list[str] = []
        member = by_email = None
        if "member_id" in item:
            member = self.model.member_in(account, item["member_id"])
            if member is None:
                bad.append("member_id")
        if "email" in item:
            by_email = self.model.member_by_email(account, item["email"]) if isinstance(item["email"], str) else None
            if by_email is None:
                bad.append("email")
        if "member_id" not in item and "email" not in item:
            bad += ["member_id", "email"]
        if member and by_email and member is not by_email:
            bad += ["member_id", "email"]
        kind = by_name = None
        if "touchpoint_type_id" in item:
            kind = self.model.type_in(account, item["touchpoint_type_id"])
            if kind is None:
                bad.append("touchpoint_type_id")
        if "type_name" in item:
            by_name = self.model.type_named(account, item["type_name"])
            if by_name is None:
                bad.append("type_name")
        if "touchpoint_type_id" not in item and "type_name" not in item:
            bad += ["touchpoint_type_id", "type_name"]
        if kind and by_name and kind is not by_name:
            bad += ["touchpoint_type_id", "type_name"]
        value = item.get("touchpoint_monetary_value")
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            bad.append("touchpoint_monetary_value")
        mailing = item.get("mailing_id")
        if mailing is not None and not is_int(mailing):
            bad.append("mailing_id")
        attributes = item.get("attributes")
        if attributes is not None and not isinstance(attributes, dict):
            bad.append("attributes")
        timestamp = fmt(self.now)
        if "touchpoint_timestamp" in item:
            timestamp = model_date(item["touchpoint_timestamp"])
            if timestamp is None:
                bad.append("touchpoint_timestamp")
        if bad:
            return None, bad
        return {"account_id": account, "touchpoint_id": None, "member_id": (member or by_email)["member_id"],
                "touchpoint_type_id": (kind or by_name)["touchpoint_type_id"], "touchpoint_timestamp": timestamp,
                "touchpoint_monetary_value": None if value is None else float(value), "mailing_id": mailing,
                "attributes": attributes, "inserted_at": fmt(self.now)}, []

    @rule(data=st.data(), account=ACCOUNTS, who=WHO, size=st.sampled_from([1, 1, 1, 2, 2, 3, 4, 10, 0, 11]),
          envelope=st.sampled_from(["ok"] * 12 + ["missing", "object", "string", "null"]))
    def create_touchpoints(self, data, account, who, size, envelope):
        valid = data.draw(st.booleans(), label="valid batch")
        items = [self.draw_item(data, account, valid) for _ in range(size)]
        body = {"ok": {"touchpoints": items}, "missing": {"items": items}, "object": {"touchpoints": {"0": 1}},
                "string": {"touchpoints": "x"}, "null": {"touchpoints": None}}[envelope]
        answer = self.call(data, "POST", f"/{account}/touchpoints/members", account, who, body)
        failure = self.auth_failure(account, who)
        if failure:
            return self.expect(failure, answer)
        if envelope != "ok" or not 1 <= size <= 10:
            return self.expect(400, answer)
        resolved = [self.model_item(account, item) for item in items]
        bad = {index: fields for index, (record, fields) in enumerate(resolved) if record is None}
        if bad:
            self.expect(400, answer)
            message = answer[1]["error"]
            named = [i for i in bad if f"[{i}]" in message]
            assert named, f"the message names none of the bad items {sorted(bad)}: {message}"
            assert any(not bad[i] or any(f in message for f in bad[i]) for i in named), (bad, message)
            return
        self.expect(200, answer)
        got = answer[1]
        assert isinstance(got, list) and len(got) == size
        expected = []
        for (record, _), created in zip(resolved, got, strict=False):
            expected.append({**record, "touchpoint_id": self.new_id("touchpoints", created.get("touchpoint_id"))})
        self.expect(200, answer, body=expected)
        for record in expected:
            value = record["touchpoint_monetary_value"]
            assert value is None or isinstance(value, float)
            self.model.touchpoints[record["touchpoint_id"]] = record
        COUNTERS["created"] += len(expected)

    @rule(data=st.data(), account=ACCOUNTS, who=WHO, query=PAGING)
    def list_member_touchpoints(self, data, account, who, query):
        member_id = self.pick(data, "members")
        answer = self.call(data, "GET", f"/{account}/touchpoints/members/{member_id}", account, who, query=query)
        member = self.model.member_in(account, member_id)
        self.check_paging_and_auth(account, who, answer, query,
                                   None if member is None else self.model.touchpoints_of(member_id))

    @rule(data=st.data(), account=ACCOUNTS, who=WHO)
    def get_touchpoint(self, data, account, who):
        touchpoint_id = self.pick(data, "touchpoints")
        answer = self.call(data, "GET", f"/{account}/touchpoints/members/touchpoints/{touchpoint_id}", account, who)
        failure = self.auth_failure(account, who)
        if failure:
            return self.expect(failure, answer)
        record = self.model.touchpoints.get(touchpoint_id)
        record = record if record and record["account_id"] == account else None
        self.expect(200 if record else 404, answer, body=record)

    @rule(data=st.data(), account=ACCOUNTS, who=WHO)
    def delete_touchpoint(self, data, account, who):
        touchpoint_id = self.pick(data, "touchpoints")
        answer = self.call(data, "DELETE", f"/{account}/touchpoints/members/touchpoints/{touchpoint_id}",
                           account, who)
        failure = self.auth_failure(account, who)
        if failure:
            return self.expect(failure, answer)
        record = self.model.touchpoints.get(touchpoint_id)
        if record is None or record["account_id"] != account:
            return self.expect(404, answer)
        self.expect(200, answer, body=True)
        del self.model.touchpoints[touchpoint_id]

    # --- the rest of the surface: wrong verbs, unknown paths, time, reset, state upload ---

    @rule(data=st.data(), account=ACCOUNTS, who=WHO, case=st.sampled_from([
        ("touchpoints", {"GET", "POST"}), ("touchpoints/300", {"GET", "PUT", "DELETE"}),
        ("touchpoints/members", {"POST"}), ("touchpoints/members/444", {"GET"}),
        ("touchpoints/members/touchpoints/1", {"GET", "DELETE"}), ("members", {"GET"}),
        ("members/add", {"POST"}), ("members/444", {"GET", "DELETE"}), ("members/email/a@b.c", {"GET"}),
        ("no/such/endpoint", set()), ("touchpoints/abc", set()), ("touchpoints/-1", set()),
    ]), method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"]))
    def other_verbs_and_paths(self, data, account, who, case, method):
        path, allowed = case
        if method in allowed:
            return
        answer = self.call(data, method, f"/{account}/{path}", account, who, {"x": 1})
        failure = self.auth_failure(account, who)
        if failure:
            return self.expect(failure, answer)
        if not allowed:
            return self.expect(404, answer)
        self.expect(405, answer)
        allow = {m.strip() for m in answer[2].headers.get("Allow", "").split(",") if m.strip()}
        assert allowed <= allow <= allowed | {"HEAD", "OPTIONS"}, (path, allow)

    @rule(seconds=st.sampled_from([0, 1, 59, 3600, 86400 * 3]))
    def advance_clock(self, seconds):
        self.admin("PUT", "clock", {"advance_seconds": seconds})
        self.now += timedelta(seconds=seconds)

    @rule()
    def reset(self):
        self.admin("POST", "reset")  # back to the fixtures; the clock runs again
        self.admin("PUT", "clock", {"now": fmt(self.now)})
        self.model.load(self.fixture)

    @rule(data=st.data())
    def upload_state(self, data):
        """PUT /__admin/state with the model's own document, less one type (and its touchpoints)."""
        document = copy.deepcopy(self.model.document())
        if document["touchpoint_types"]:
            gone = data.draw(st.sampled_from(document["touchpoint_types"]), label="dropped type")
            document["touchpoint_types"].remove(gone)
            document["touchpoints"] = [t for t in document["touchpoints"]
                                       if t["touchpoint_type_id"] != gone["touchpoint_type_id"]]
        self.admin("PUT", "state", document)
        self.model.load(document)


def _run(max_examples: int, steps: int) -> None:
    COUNTERS.update(steps=0, requests=0, examples=0, created=0)
    run_state_machine_as_test(EmmaMachine, settings=settings(
        max_examples=max_examples, stateful_step_count=steps, derandomize=True, database=None, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large]))
    print(f"model-based: {COUNTERS['examples']} runs, {COUNTERS['steps']} checked steps, "
          f"{COUNTERS['requests']} API requests compared, {COUNTERS['created']} touchpoints created")


def test_api_agrees_with_the_reference_model():
    _run(max_examples=25, steps=50)
    # A guard against a vacuous run, not a target: derandomize fixes the examples for one
    # checkout, but another path or hypothesis version draws others (23 to 273 created seen at 120 examples; `-m slow` runs 150 of 80 steps).
    assert COUNTERS["steps"] >= 800 and COUNTERS["requests"] >= 400 and COUNTERS["created"] >= 5


@pytest.mark.slow
def test_api_agrees_with_the_reference_model_long():
    _run(max_examples=150, steps=80)


# --- the model itself is checked against the contract's own examples -------------------------------------

@pytest.mark.parametrize("value, expected", [
    ("@D:2025-12-02T11:23:47", "@D:2025-12-02T11:23:47"),
    ("2025-12-02T11:23:47", "@D:2025-12-02T11:23:47"),
    ("2025-12-02T11:23:47.123Z", "@D:2025-12-02T11:23:47"),
    ("2025-12-02T01:30:00+02:00", "@D:2025-12-01T23:30:00"),
    ("2025-12-31T23:30:00-01:00", "@D:2026-01-01T00:30:00"),
    ("2025-12-02", None), ("2025-12-02T11:23", None), ("2025-12-02 11:23:47", None),
    ("2025-12-02T11:23:47+0200", None), ("20251202T112347Z", None), ("2025-02-30T10:00:00", None),
])
def test_the_models_dates_follow_spec(value, expected):
    assert model_date(value) == expected


def test_the_models_paging_follows_spec():
    items = list(range(1200))
    assert model_page({}, items) == (200, items[:500])
    assert model_page({"start": "700", "end": "5000"}, items) == (200, items[700:1200])
    assert model_page({"count": "True", "start": "-1"}, items) == (200, 1200)
    assert model_page({"start": "-1"}, items)[0] == 400
    assert model_page({"start": "5", "end": "4"}, items)[0] == 400
