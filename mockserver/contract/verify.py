"""One scenario against the real API and against a mock seeded (in memory) from a capture of the
same account, answer by answer: status codes, shapes and the seeded values (see `shapes`).

The scenario reads every GET endpoint (lists, paging, `count=true`, unknown ids, wrong keys);
with `writes`, it also creates a touchpoint type and a touchpoint named `emma_mock_verify_*`,
reads and deletes them, and `clean_up` removes whatever such records are left, whatever happened.
"""
from __future__ import annotations

import base64
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from flask.testing import FlaskClient

from ..config import Config
from ..serving.app import create_app
from .capture import Capture, Lister
from .client import NOT_JSON, ApiClient
from .shapes import Difference, compare, described

UNKNOWN_ID = 987654321987654321  # no account holds it: 18 digits, the most an id has
WRONG_KEYS = ("emma-mock-verify-wrong-key", "emma-mock-verify-wrong-secret")
WRITE_PREFIX = "emma_mock_verify_"
TIMESTAMP = "@D:2025-01-02T03:04:05"

Params = dict[str, Any] | None
Ids = dict[str, Any]  # what one side made during the scenario (type_id, touchpoint_id)


@dataclass
class Check:
    """One request sent to both sides. `{name}` in the path is filled from the side's made ids."""

    method: str
    path: str
    params: dict[str, Any] | None = None
    body: Callable[[Ids], Any] | None = None
    wrong_keys: bool = False
    made: tuple[str, ...] = ()  # fields compared by kind only (the servers make them)
    values: bool = True  # False: the body is compared by shape only
    keeps: dict[str, Callable[[Any], Any]] = field(default_factory=dict)  # ids to read from a 200 answer
    shown_as: str = ""  # the name printed instead of the path (a path holding personal data)

    @property
    def name(self) -> str:
        query = "?" + "&".join(f"{k}={v}" for k, v in self.params.items()) if self.params else ""
        keys = " with wrong keys" if self.wrong_keys else ""
        return f"{self.method} {self.shown_as or self.path}{query}{keys}"


@dataclass
class Result:
    """How one check went: same, differs or skipped, and why."""

    check: str
    outcome: str
    differences: list[Difference] = field(default_factory=list)
    reason: str = ""

    def line(self, strict: bool) -> str:
        failing = [d for d in self.differences if d.modelled or strict]
        unmodelled = sorted({_general(d.where) for d in self.differences if not d.modelled})
        text = f"{self.outcome:<8} {self.check}"
        if self.reason:
            text += f": {self.reason}"
        if failing and not self.reason:
            text += ": " + "; ".join(described(_private(d)) for d in failing if d.modelled)
        if unmodelled:
            text += f" (not modelled: {', '.join(unmodelled)})"
        return text

    def as_json(self) -> dict[str, Any]:
        return {"check": self.check, "outcome": self.outcome, "reason": self.reason or None,
                "differences": [{"where": d.where, "what": d.what, "real": _private(d).real, "mock": _private(d).mock}
                                for d in self.differences if d.modelled],
                "not_modelled": sorted({_general(d.where) for d in self.differences if not d.modelled})}


def _general(where: str) -> str:
    return re.sub(r"\[\d+\]", "[]", where)


def _private(difference: Difference) -> Difference:
    """The difference with member emails and fields masked: verify keeps them in memory only."""
    if re.search(r"(^|\.)(email|fields)(\.|$)", difference.where):
        def masked(value: Any) -> Any:
            return None if value is None else "<personal data>"
        return Difference(difference.where, difference.what, masked(difference.real), masked(difference.mock),
                          difference.modelled)
    return difference


def _basic(keys: tuple[str, str]) -> str:
    return "Basic " + base64.b64encode(f"{keys[0]}:{keys[1]}".encode()).decode()


class MockSide:
    """The mock, in process, seeded from the capture: answers the same requests as the real API."""

    def __init__(self, capture: Capture):
        self.app = create_app(Config(quiet=True), seed=capture.dataset)
        self.client: FlaskClient = self.app.test_client()
        self.prefix = f"/{capture.account_id}"
        self.keys = capture.keys

    def send(self, method: str, path: str, params: Params, body: Any, wrong_keys: bool) -> tuple[int, Any]:
        response = self.client.open(
            self.prefix + path, method=method, query_string=params,
            data=None if body is None else json.dumps(body),
            headers={"Authorization": _basic(WRONG_KEYS if wrong_keys else self.keys)})
        text = response.get_data(as_text=True)
        try:
            return response.status_code, json.loads(text) if text.strip() else None
        except ValueError:
            return response.status_code, NOT_JSON


class RealSide:
    """The real API (or whatever answers at the URL)."""

    def __init__(self, client: ApiClient):
        self.client = client

    def send(self, method: str, path: str, params: Params, body: Any, wrong_keys: bool) -> tuple[int, Any]:
        answer = self.client.request(method, path, params, body, auth=WRONG_KEYS if wrong_keys else None,
                                     any_answer=True)
        return answer.status, answer.body


def read_checks(capture: Capture) -> list[Check]:
    """Every GET endpoint on the captured data, paging, `count=true`, unknown ids and wrong keys."""
    types = capture.document["touchpoint_types"]
    members = capture.document["members"]
    touchpoints = capture.document["touchpoints"]
    complete = capture.members_total == len(members)
    checks = [Check("GET", "/touchpoints"), Check("GET", "/touchpoints", {"count": "true"}),
              Check("GET", "/touchpoints", {"start": 1, "end": 2}),
              Check("GET", "/touchpoints", {"start": 5, "end": 2}, values=False),
              Check("GET", f"/touchpoints/{UNKNOWN_ID}", values=False),
              Check("GET", "/touchpoints", wrong_keys=True, values=False)]
    if types:
        checks.append(Check("GET", f"/touchpoints/{types[0]['touchpoint_type_id']}"))
    checks += [Check("GET", "/members", {"count": "true"}, values=complete),
               Check("GET", "/members", {"start": -1}, values=False),
               Check("GET", f"/members/{UNKNOWN_ID}", values=False),
               Check("GET", f"/touchpoints/members/{UNKNOWN_ID}", values=False),
               Check("GET", f"/touchpoints/members/touchpoints/{UNKNOWN_ID}", values=False)]
    if members:
        first = members[0]
        checks += [Check("GET", "/members", {"start": 0, "end": len(members)}),
                   Check("GET", f"/members/{first['member_id']}"),
                   Check("GET", f"/members/email/{quote(first['email'], safe='@')}",
                         shown_as=f"/members/email/<email of member {first['member_id']}>")]
        if len(members) >= 3:
            checks.append(Check("GET", "/members", {"start": 1, "end": 3}))
    if touchpoints:
        member_id, touchpoint_id = touchpoints[0]["member_id"], touchpoints[0]["touchpoint_id"]
        checks += [Check("GET", f"/touchpoints/members/{member_id}"),
                   Check("GET", f"/touchpoints/members/{member_id}", {"count": "true"}),
                   Check("GET", f"/touchpoints/members/{member_id}", {"start": 0, "end": 1}),
                   Check("GET", f"/touchpoints/members/touchpoints/{touchpoint_id}")]
    elif members:
        checks.append(Check("GET", f"/touchpoints/members/{members[0]['member_id']}"))
    return checks


def run_name() -> str:
    """The type_name of this run's records: `emma_mock_verify_` and a random suffix."""
    return WRITE_PREFIX + secrets.token_hex(4)


def write_checks(capture: Capture, name: str) -> list[Check]:
    """Create a type and a touchpoint for a captured member, read them, delete them (type last)."""
    members = capture.document["members"]
    if not members:
        return []
    member_id = members[0]["member_id"]

    def touchpoint(ids: Ids) -> Any:
        return {"touchpoints": [{"member_id": member_id, "touchpoint_type_id": ids["type_id"],
                                 "touchpoint_timestamp": TIMESTAMP, "touchpoint_monetary_value": 8,
                                 "mailing_id": None, "attributes": {"source": name}}]}
    new_type = ("touchpoint_type_id", "created_at")
    new_touchpoint = ("touchpoint_id", "touchpoint_type_id", "inserted_at")
    return [
        Check("POST", "/touchpoints", body=lambda ids: {"type_name": name, "display_name": name}, made=new_type,
              keeps={"type_id": lambda body: body["touchpoint_type_id"]}),
        Check("POST", "/touchpoints/members", body=touchpoint, made=new_touchpoint,
              keeps={"touchpoint_id": lambda body: body[0]["touchpoint_id"]}),
        Check("GET", "/touchpoints/members/touchpoints/{touchpoint_id}", made=new_touchpoint),
        Check("GET", "/touchpoints/{type_id}", made=new_type),
        Check("DELETE", "/touchpoints/members/touchpoints/{touchpoint_id}"),
        Check("GET", "/touchpoints/members/touchpoints/{touchpoint_id}", values=False),
        Check("DELETE", "/touchpoints/{type_id}"),
        Check("GET", "/touchpoints/{type_id}", values=False),
    ]


def run_check(check: Check, real: RealSide, mock: MockSide, ids: dict[str, Ids]) -> Result:
    """Send one check to both sides and compare the answers."""
    answers = {}
    for side_name, side in (("real", real), ("mock", mock)):
        try:
            path = check.path.format(**ids[side_name])
            body = check.body(ids[side_name]) if check.body is not None else None
        except (KeyError, IndexError, TypeError):
            return Result(check.name, "differs", reason=f"not run: an earlier step made nothing on the {side_name} API"
                          if side_name == "real" else "not run: an earlier step made nothing in the mock")
        answers[side_name] = side.send(check.method, path, check.params, body, check.wrong_keys)
        status, answer_body = answers[side_name]
        if status == 200:
            for key, read in check.keeps.items():
                try:
                    ids[side_name][key] = read(answer_body)
                except (KeyError, IndexError, TypeError):
                    pass
    (real_status, real_body), (mock_status, mock_body) = answers["real"], answers["mock"]
    differences = []
    if real_status != mock_status:
        differences.append(Difference("status", "status", real_status, mock_status))
    values = check.values and real_status < 400 and mock_status < 400
    differences += compare(real_body, mock_body, check.made, values)
    failing = any(d.modelled for d in differences)
    return Result(check.name, "differs" if failing else "same", differences)


def seed_results(capture: Capture) -> list[Result]:
    """What the capture could not read as the mock's model, as failed checks (not modelled: noted only)."""
    results = []
    for note in capture.notes:
        if note.modelled:
            results.append(Result(f"seed {note.where}", "differs", reason=note.problem))
        else:
            results.append(Result(f"seed {note.where}", "same", [Difference(note.where, note.problem, modelled=False)],
                                  reason=f"not modelled: {note.problem}"))
    return results


def clean_up(client: ApiClient, name: str, ids: Ids) -> str | None:
    """Delete this run's records from the real API; None when none is left, else what remains."""
    for touchpoint_id in [ids.get("touchpoint_id")] if ids.get("touchpoint_id") else []:
        client.request("DELETE", f"/touchpoints/members/touchpoints/{touchpoint_id}", any_answer=True)
    lister = Lister(client)
    found = {t.get("touchpoint_type_id") for t in lister.items("/touchpoints")
             if isinstance(t, dict) and t.get("type_name") == name}
    for type_id in {ids.get("type_id"), *found} - {None}:
        client.request("DELETE", f"/touchpoints/{type_id}", any_answer=True)
    left = [t.get("touchpoint_type_id") for t in lister.items("/touchpoints")
            if isinstance(t, dict) and t.get("type_name") == name]
    return f"touchpoint type {name!r} (id {left[0]}) is still there: delete it by hand" if left else None
