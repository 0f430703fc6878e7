"""Reading one account of the real API (GET only, documented endpoints) into a fixture document.

`read_account` pages through the account's touchpoint types, its first members and each of those
members' touchpoints, and turns every record into the mock's model (`MODEL`): what fits is kept,
what the mock does not model is left out and listed, what must be read another way (an id sent as
a string, a date in another form) is read and noted, and what cannot be seeded at all is left out
and noted. The document always loads: it is checked by the fixture loader before it is returned.
"""
from __future__ import annotations

import re
import secrets
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

from ..core.checks import is_int, is_number
from ..core.dates import EMMA_DATE, DateError, parse_date
from ..core.fixtures import COLLECTIONS, Dataset, validate
from ..core.ids import MAX_ID
from ..core.records import JSONObject
from ..core.terminal import terminal_safe
from .client import ApiClient, RequestFailed

PAGE = 500  # the real API's largest page
MAX_LIST_ITEMS = 100_000  # items read from one list, whatever its pages or its count say (an endless list stops)


def _model() -> dict[str, tuple[str, ...]]:
    """The fields the mock models per collection, as its own fixture loader fills them in."""
    one = validate([("the mock's model", {
        "accounts": [{"account_id": 1, "public_key": "p", "private_key": "s"}],
        "members": [{"account_id": 1, "member_id": 1, "email": "m@example.invalid"}],
        "touchpoint_types": [{"account_id": 1, "touchpoint_type_id": 1, "type_name": "t", "display_name": "T"}],
        "touchpoints": [{"account_id": 1, "touchpoint_id": 1, "member_id": 1, "touchpoint_type_id": 1}]})])
    return {collection: tuple(getattr(one, collection)[0]) for collection in COLLECTIONS}


MODEL = _model()
_EMMA_DATE = re.compile(EMMA_DATE)


def placeholder_email(member_id: int) -> str:
    """What a captured member's email becomes unless personal data is kept."""
    return f"member-{member_id}@example.invalid"


@dataclass
class Note:
    """Something about one captured record: where, what, and whether the mock could still be seeded."""

    where: str
    problem: str
    seeded: bool = True  # False: the record (or a field) is left out of the seed
    modelled: bool = True  # False: a kind of data the mock does not model (not a drift of the API)

    def __str__(self) -> str:
        return f"{self.where}: {self.problem}"


@dataclass
class Capture:
    """An account read from the API, as a fixture document, with what had to be left out or read otherwise."""

    account_id: int
    document: dict[str, list[JSONObject]]
    dataset: Dataset
    members_total: int | None  # what `count=true` said (None when it could not be read)
    not_modelled: dict[str, set[str]] = field(default_factory=dict)
    notes: list[Note] = field(default_factory=list)

    @property
    def keys(self) -> tuple[str, str]:
        account = self.document["accounts"][0]
        return account["public_key"], account["private_key"]

    def summary(self) -> str:
        counts = {name: len(self.document[name]) for name in COLLECTIONS}
        of = f" of {self.members_total}" if self.members_total is not None else ""
        return (f"{counts['touchpoint_types']} touchpoint types, {counts['members']} members{of}, "
                f"{counts['touchpoints']} touchpoints")


class Progress:
    """Progress on a stream (stderr): a bar redrawn in place on a terminal, a few lines otherwise."""

    def __init__(self, stream: TextIO | None = sys.stderr, prefix: str = "capture"):
        self.stream = stream
        self.prefix = prefix
        self.terminal = stream is not None and stream.isatty()
        self._shown = -1

    def line(self, text: str) -> None:
        if self.stream is not None:
            self._end_bar()
            print(terminal_safe(f"{self.prefix}: {text}"), file=self.stream, flush=True)

    def step(self, done: int, total: int, what: str) -> None:
        if self.stream is None or total <= 0:
            return
        if self.terminal:
            width = 30
            filled = width * done // total
            self.stream.write(f"\r{self.prefix}: [{'#' * filled}{'.' * (width - filled)}] {done}/{total} "
                              + terminal_safe(what))
            self.stream.flush()
            self._shown = 0
            if done == total:
                self._end_bar()
        elif done == total or done * 4 // total > (done - 1) * 4 // total:  # at each quarter and the end
            self.line(f"{done}/{total} {what}")

    def _end_bar(self) -> None:
        if self.terminal and self._shown == 0 and self.stream is not None:
            self.stream.write("\n")
            self._shown = -1

    def waiting(self, seconds: float) -> None:
        self.line(f"rate limited: waiting {seconds:.0f} s as the API asks (Retry-After)")


class _Reader:
    """Turns one record of the API into the mock's fields, noting what it cannot keep as it is."""

    def __init__(self, collection: str, index: int, raw: Any, capture: Capture):
        self.where = f"{collection}[{index}]"
        self.raw: dict[str, Any] = raw if isinstance(raw, dict) else {}
        self.capture = capture
        self.out: JSONObject = {"account_id": capture.account_id}
        if not isinstance(raw, dict):
            raise _LeftOut(f"is {type(raw).__name__}, not an object")
        extra = set(self.raw) - set(MODEL[collection])
        capture.not_modelled.setdefault(collection, set()).update(extra)
        account = self.raw.get("account_id", capture.account_id)
        if account != capture.account_id:
            self.note(f"account_id {account!r} is not the URL's account {capture.account_id}: read as it")

    def note(self, problem: str, seeded: bool = True) -> None:
        self.capture.notes.append(Note(self.where, problem, seeded))

    def id(self, name: str) -> int:
        value = self.raw.get(name)
        if isinstance(value, str) and value.isascii() and value.isdigit():
            self.note(f"{name} is the string {value!r}: read as the id {int(value)}")
            value = int(value)
        if not is_int(value) or not 1 <= value <= MAX_ID:
            raise _LeftOut(f"{name} {value!r} is not an id (a positive integer)")
        self.out[name] = value
        return int(value)

    def text(self, name: str, fallback: str) -> None:
        value = self.raw.get(name)
        if not isinstance(value, str) or not value.strip():
            where = f"absent{self._instead(name)}" if name not in self.raw else f"{value!r}, not a string"
            self.note(f"{name} is {where}: seeded as {fallback!r}", seeded=False)
            value = fallback
        self.out[name] = value

    def _instead(self, name: str) -> str:
        """For a missing field: the fields this record has that the mock does not model (a rename?)."""
        extra = sorted(set(self.raw) - set(MODEL[self.collection]))
        return f" (the record has {', '.join(extra)} instead: renamed?)" if extra else ""

    @property
    def collection(self) -> str:
        return self.where.split("[", 1)[0]

    def date(self, name: str) -> None:
        value = self.raw.get(name)
        if value is None and name not in self.raw:
            self.note(f"{name} is absent{self._instead(name)}: seeded as the load time", seeded=False)
            return
        try:
            self.out[name] = parse_date(value)
        except DateError:
            self.note(f"{name} {value!r} is not a date: seeded as the load time", seeded=False)
            return
        if not (isinstance(value, str) and _EMMA_DATE.fullmatch(value)):
            self.note(f"{name} {value!r} is not in the @D: form: read as {self.out[name]}")

    def optional(self, name: str, ok: Callable[[Any], bool], kind: str) -> None:
        value = self.raw.get(name)
        if value is not None and not ok(value):
            self.note(f"{name} {value!r} is not {kind} or null: seeded as null", seeded=False)
            value = None
        self.out[name] = value


class _LeftOut(Exception):
    """The record cannot be seeded at all."""


def _member(r: _Reader, keep_personal_data: bool, emails: set[str]) -> JSONObject | None:
    member_id = r.id("member_id")
    status = r.raw.get("status", "active")
    if status != "active":
        r.capture.notes.append(Note(r.where, f"status {status!r}: the mock models active members only; left out",
                                    seeded=False, modelled=False))
        return None
    email = r.raw.get("email")
    if not keep_personal_data or not isinstance(email, str) or "@" not in email or email.lower() in emails:
        if keep_personal_data:
            r.note(f"email is not a usable address: seeded as {placeholder_email(member_id)}", seeded=False)
        email = placeholder_email(member_id)
    emails.add(email.lower())
    r.out["email"] = email
    r.out["status"] = "active"
    r.date("member_since")
    fields = r.raw.get("fields", {})
    if keep_personal_data and not isinstance(fields, dict):
        r.note(f"fields is {type(fields).__name__}, not an object: seeded as {{}}", seeded=False)
    r.out["fields"] = fields if keep_personal_data and isinstance(fields, dict) else {}
    return r.out


def _touchpoint_type(r: _Reader, names: set[str]) -> JSONObject | None:
    type_id = r.id("touchpoint_type_id")
    r.text("type_name", f"type-{type_id}")
    if r.out["type_name"] in names:
        raise _LeftOut(f"type_name {r.out['type_name']!r} is used twice")
    names.add(r.out["type_name"])
    r.text("display_name", r.out["type_name"])
    r.date("created_at")
    return r.out


def _touchpoint(r: _Reader, member_id: int, type_ids: set[int]) -> JSONObject | None:
    r.id("touchpoint_id")
    if r.id("member_id") != member_id:
        raise _LeftOut(f"member_id {r.out['member_id']} is not the member it was read for ({member_id})")
    if r.id("touchpoint_type_id") not in type_ids:
        raise _LeftOut(f"touchpoint_type_id {r.out['touchpoint_type_id']} is not a captured touchpoint type")
    r.date("touchpoint_timestamp")
    r.optional("touchpoint_monetary_value", is_number, "a number")
    r.optional("mailing_id", is_int, "an integer")
    r.optional("attributes", lambda value: isinstance(value, dict), "an object")
    r.date("inserted_at")
    return r.out


def _kept(collection: str, raws: list[Any], capture: Capture, read: Callable[[_Reader], JSONObject | None],
          seen: set[int], offset: int = 0) -> list[JSONObject]:
    """The records of a page the mock can be seeded with (duplicates of an id and unreadable ones left out)."""
    kept = []
    id_field = {"members": "member_id", "touchpoint_types": "touchpoint_type_id",
                "touchpoints": "touchpoint_id"}[collection]
    for index, raw in enumerate(raws, offset):
        try:
            reader = _Reader(collection, index, raw, capture)
            record = read(reader)
        except _LeftOut as exc:
            capture.notes.append(Note(f"{collection}[{index}]", f"{exc}; left out", seeded=False))
            continue
        if record is None:
            continue
        if record[id_field] in seen:
            capture.notes.append(Note(f"{collection}[{index}]", f"{id_field} {record[id_field]} again; left out",
                                      seeded=False))
            continue
        seen.add(record[id_field])
        kept.append(record)
    return kept


def new_keys() -> tuple[str, str]:
    """Fresh keys for the captured account in the mock (hex, as the real API's)."""
    return secrets.token_hex(10), secrets.token_hex(10)


class Lister:
    """Pages through one list of the API: `start`/`end` windows until it has all (or `limit`) items."""

    def __init__(self, client: ApiClient):
        self.client = client

    def count(self, path: str) -> int | None:
        answer = self.client.request("GET", path, {"count": "true"})
        return answer.body if answer.status == 200 and is_int(answer.body) else None

    def items(self, path: str, limit: int | None = None, total: int | None = None) -> list[Any]:
        """Every item (at most `limit`); with `total` known, smaller pages than asked are followed too."""
        wanted = min(x for x in (limit, total) if x is not None) if limit is not None or total is not None else None
        items: list[Any] = []
        start = 0
        while wanted is None or len(items) < wanted:
            end = start + PAGE if wanted is None else min(start + PAGE, wanted)
            params = {"start": start, "end": end}
            answer = self.client.request("GET", path, params)
            if answer.status != 200 or not isinstance(answer.body, list):
                error = answer.body.get("error") if isinstance(answer.body, dict) else None
                said = f": {str(error)[:100]!r}" if error else ""
                kind = "" if answer.status != 200 else f" with {type(answer.body).__name__}, not a list"
                raise RequestFailed(self.client.redact(
                    f"{self.client.named('GET', path, params)}: answered {answer.status}{kind}{said}"))
            items += answer.body
            if len(items) > MAX_LIST_ITEMS and (wanted is None or wanted > MAX_LIST_ITEMS):
                raise RequestFailed(self.client.redact(
                    f"GET {self.client.base}{path}: the list goes on past {MAX_LIST_ITEMS} items, more than a "
                    "capture reads from one list; is the URL an Emma API base?"))
            if not answer.body or (total is None and len(answer.body) < end - start):
                break
            start += len(answer.body)
        return items if wanted is None else items[:wanted]


def read_account(client: ApiClient, members: int, keep_personal_data: bool = False,
                 progress: Progress | None = None, keys: tuple[str, str] | None = None) -> Capture:
    """The account's types, first `members` members and their touchpoints, as a fixture that loads."""
    progress = progress or Progress(None)
    lister = Lister(client)
    public_key, private_key = keys or new_keys()
    capture = Capture(client.account_id, {}, Dataset(), None)

    types_total = lister.count("/touchpoints")
    raw_types = lister.items("/touchpoints", total=types_total)
    names: set[str] = set()
    types = _kept("touchpoint_types", raw_types, capture, lambda r: _touchpoint_type(r, names), set())
    progress.line(f"{len(types)} touchpoint types")

    capture.members_total = lister.count("/members")
    raw_members = lister.items("/members", limit=members, total=capture.members_total) if members else []
    emails: set[str] = set()
    kept_members = _kept("members", raw_members, capture, lambda r: _member(r, keep_personal_data, emails), set())
    total = "an unknown number" if capture.members_total is None else capture.members_total
    progress.line(f"{len(kept_members)} members (of {total})")

    type_ids = {record["touchpoint_type_id"] for record in types}
    touchpoints: list[JSONObject] = []
    seen: set[int] = set()
    read = 0
    for done, member in enumerate(kept_members, 1):
        member_id: int = member["member_id"]
        raws = lister.items(f"/touchpoints/members/{member_id}")

        def reader(r: _Reader, member_id: int = member_id) -> JSONObject | None:
            return _touchpoint(r, member_id, type_ids)
        touchpoints += _kept("touchpoints", raws, capture, reader, seen, offset=read)
        read += len(raws)
        progress.step(done, len(kept_members), "members' touchpoints")

    capture.document = {
        "accounts": [{"account_id": client.account_id, "public_key": public_key, "private_key": private_key,
                      "name": f"Captured account {client.account_id}"}],
        "members": kept_members, "touchpoint_types": types, "touchpoints": touchpoints}
    capture.dataset = validate([("the capture", capture.document)])
    return capture
