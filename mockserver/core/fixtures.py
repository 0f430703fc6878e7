"""Fixture documents: reading them from disk and checking them whole before anything is served.

A fixture is one JSON object with the collections `accounts`, `members`,
`touchpoint_types` and `touchpoints`, records in the API's own field names.
`GET /__admin/state` answers the same format, so a state can be saved and
loaded again. Every problem is reported with the file, the collection, the
record's index and what is wrong; nothing is loaded unless all of it is right.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

from . import strict_json
from .checks import fits_a_float, is_int, is_number
from .dates import DateError, format_date, parse_date
from .errors import InvalidFixture, shown
from .ids import MAX_ID, MAX_ID_DIGITS
from .records import JSONObject, Record

COLLECTIONS = ("accounts", "members", "touchpoint_types", "touchpoints")


@dataclass
class Dataset:
    """Validated records in wire form (dates as `@D:` strings), ready for the store."""

    accounts: list[JSONObject] = field(default_factory=list)
    members: list[JSONObject] = field(default_factory=list)
    touchpoint_types: list[JSONObject] = field(default_factory=list)
    touchpoints: list[JSONObject] = field(default_factory=list)

    def as_document(self) -> dict[str, list[JSONObject]]:
        return {name: getattr(self, name) for name in COLLECTIONS}


class _Checker:
    """Checks one record's fields; `fail` raises with the record's location."""

    def __init__(self, where: str, record: Any):
        self.where = where
        if not isinstance(record, dict):
            self.fail(f"must be an object, got {type(record).__name__}")
        self.record = record

    def fail(self, problem: str) -> NoReturn:
        raise InvalidFixture(f"{self.where}: {problem}")

    def allow_only(self, names: Iterable[str]) -> None:
        unknown = sorted(set(self.record) - set(names))
        if unknown:
            self.fail(f"unknown field {shown(unknown[0])} (allowed: {', '.join(names)})")

    def id(self, name: str) -> int:
        value = self.record.get(name)
        if not is_int(value) or not 1 <= value <= MAX_ID:
            self.fail(f"{name!r} must be a positive integer of at most {MAX_ID_DIGITS} digits "
                      f"(ids must fit in a path), got {json.dumps(value)[:40]}")
        return value

    def text(self, name: str, default: str | None = None) -> str:
        value = self.record.get(name, default)
        if not isinstance(value, str) or not value.strip():
            self.fail(f"{name!r} must be a non-empty string, got {shown(value)}")
        return value

    def key(self, name: str) -> str:
        """An API key: printable ASCII, as every client can send it in a Basic header (the real keys are hex)."""
        value = self.text(name)
        odd = next((ch for ch in value if not " " <= ch <= "~"), None)
        if odd is not None:
            self.fail(f"{name!r} may hold printable ASCII characters only (the real API's keys are hex; clients "
                      f"differ in how they send other characters in a header), got {shown(odd)} in {shown(value)}")
        if name == "public_key" and ":" in value:
            self.fail(f"'public_key' may not contain ':' (HTTP Basic ends the user name at the first ':'), "
                      f"got {shown(value)}")
        return value

    def date(self, name: str, default: str) -> str:
        if name not in self.record:
            return default
        try:
            return parse_date(self.record[name])
        except DateError as exc:
            self.fail(f"{name!r} {exc}")

    def optional(self, name: str, ok: Callable[[Any], bool], kind: str) -> Any:
        value = self.record.get(name)
        if value is not None and not ok(value):
            self.fail(f"{name!r} must be {kind} or null, got {shown(value)}")
        return value


def _account(c: _Checker, now: str) -> JSONObject:
    c.allow_only(("account_id", "public_key", "private_key", "name"))
    account_id = c.id("account_id")
    return {
        "account_id": account_id,
        "public_key": c.key("public_key"),
        "private_key": c.key("private_key"),
        "name": c.text("name", f"Account {account_id}"),
    }


def _member(c: _Checker, now: str) -> JSONObject:
    c.allow_only(("account_id", "member_id", "email", "status", "member_since", "fields"))
    if c.record.get("status", "active") != "active":
        c.fail("'status' may only be \"active\" (deleted members are simply absent)")
    email = c.text("email")
    if "@" not in email:
        c.fail(f"'email' {shown(email)} is not an email address")
    fields = c.record.get("fields", {})
    if not isinstance(fields, dict):
        c.fail(f"'fields' must be an object, got {json.dumps(fields)}")
    return Record({
        "account_id": c.id("account_id"),
        "member_id": c.id("member_id"),
        "email": email,
        "status": "active",
        "member_since": c.date("member_since", now),
        "fields": fields,
    })


def _touchpoint_type(c: _Checker, now: str) -> JSONObject:
    c.allow_only(("account_id", "touchpoint_type_id", "type_name", "display_name", "created_at"))
    return Record({
        "account_id": c.id("account_id"),
        "touchpoint_type_id": c.id("touchpoint_type_id"),
        "type_name": c.text("type_name"),
        "display_name": c.text("display_name"),
        "created_at": c.date("created_at", now),
    })


def _touchpoint(c: _Checker, now: str) -> JSONObject:
    c.allow_only((
        "account_id", "touchpoint_id", "member_id", "touchpoint_type_id", "touchpoint_timestamp",
        "touchpoint_monetary_value", "mailing_id", "attributes", "inserted_at",
    ))
    value = c.optional("touchpoint_monetary_value",
                       is_number, "a number")
    inserted_at = c.date("inserted_at", now)
    if value is not None and not fits_a_float(value):
        c.fail("'touchpoint_monetary_value' is too large")
    value = None if value is None else float(value)
    return Record({
        "account_id": c.id("account_id"),
        "touchpoint_id": c.id("touchpoint_id"),
        "member_id": c.id("member_id"),
        "touchpoint_type_id": c.id("touchpoint_type_id"),
        "touchpoint_timestamp": c.date("touchpoint_timestamp", inserted_at),
        "touchpoint_monetary_value": value,
        "mailing_id": c.optional("mailing_id", is_int, "an integer"),
        "attributes": c.optional("attributes", lambda v: isinstance(v, dict), "an object"),
        "inserted_at": inserted_at,
    })


_RECORD_READERS = {
    "accounts": _account,
    "members": _member,
    "touchpoint_types": _touchpoint_type,
    "touchpoints": _touchpoint,
}
ID_FIELDS = {
    "accounts": "account_id",
    "members": "member_id",
    "touchpoint_types": "touchpoint_type_id",
    "touchpoints": "touchpoint_id",
}


def validate(sources: list[tuple[str, Any]], now: datetime | None = None, consume: bool = False) -> Dataset:
    """Check documents (each `(name, parsed JSON)`) as one state; raise InvalidFixture on the first problem.

    `consume=True` empties each parsed record once it is read, so a large file's
    parsed dicts give their memory to the records that replace them (peak memory
    is then about one copy of the state, not two). Only for documents parsed for
    this call.
    """
    today = format_date(now or datetime.now(UTC))
    dataset = Dataset()
    where: dict[tuple[str, int], str] = {}  # (collection, position in dataset) -> "file: coll[i]"
    for name, doc in sources:
        if not isinstance(doc, dict):
            raise InvalidFixture(f"{name}: a fixture must be a JSON object with {', '.join(COLLECTIONS)}")
        unknown = sorted(set(doc) - set(COLLECTIONS))
        if unknown:
            raise InvalidFixture(
                f"{name}: unknown collection {shown(unknown[0])} (expected {', '.join(COLLECTIONS)})")
        for collection, read in _RECORD_READERS.items():
            records = doc.get(collection, [])
            if not isinstance(records, list):
                raise InvalidFixture(f"{name}: {collection!r} must be a list")
            target = getattr(dataset, collection)
            for index, raw in enumerate(records):
                label = f"{name}: {collection}[{index}]"
                where[collection, len(target)] = label
                target.append(read(_Checker(label, raw), today))
                if consume:
                    raw.clear()
    _check_relations(dataset, where)
    return dataset


def _check_relations(data: Dataset, where: dict[tuple[str, int], str]) -> None:
    def fail(collection: str, position: int, problem: str) -> NoReturn:
        raise InvalidFixture(f"{where[collection, position]}: {problem}")

    seen: dict[str, dict[int, JSONObject]] = {}
    for collection, id_field in ID_FIELDS.items():
        by_id: dict[int, JSONObject] = {}
        for position, record in enumerate(getattr(data, collection)):
            if record[id_field] in by_id:
                fail(collection, position, f"duplicate {id_field} {record[id_field]}")
            by_id[record[id_field]] = record
        seen[collection] = by_id

    public_keys: set[str] = set()
    for position, account in enumerate(data.accounts):
        if account["public_key"] in public_keys:
            fail("accounts", position, "public_key is already used by another account")
        public_keys.add(account["public_key"])

    unique: set[tuple[Any, ...]] = set()
    for collection, key in (("members", "email"), ("touchpoint_types", "type_name")):
        for position, record in enumerate(getattr(data, collection)):
            if record["account_id"] not in seen["accounts"]:
                fail(collection, position, f"account_id {record['account_id']} is not an account in the fixture")
            value = record[key].lower() if key == "email" else record[key]
            if (collection, record["account_id"], value) in unique:
                fail(collection, position,
                     f"{key} {shown(record[key])} is used twice in account {record['account_id']}")
            unique.add((collection, record["account_id"], value))

    for position, touchpoint in enumerate(data.touchpoints):
        account_id = touchpoint["account_id"]
        if account_id not in seen["accounts"]:
            fail("touchpoints", position, f"account_id {account_id} is not an account in the fixture")
        for collection, id_field in (("members", "member_id"), ("touchpoint_types", "touchpoint_type_id")):
            owner = seen[collection].get(touchpoint[id_field])
            if owner is None or owner["account_id"] != account_id:
                fail("touchpoints", position,
                     f"{id_field} {touchpoint[id_field]} is not a {collection[:-1].replace('_', ' ')} "
                     f"of account {account_id}")


def read_json(path: Path) -> Any:
    """Parse one JSON file, with errors that name the file and the line."""
    try:
        size = path.stat().st_size
        if size > MAX_FIXTURE_BYTES:
            raise InvalidFixture(f"{path}: is {size} bytes, over the {MAX_FIXTURE_BYTES // 2**20} MiB "
                                 "a fixture file may hold")
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidFixture(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise InvalidFixture(f"{path}: is not UTF-8 text") from None
    try:
        return strict_json.loads(text, max_depth=strict_json.DOCUMENT_DEPTH)
    except (ValueError, RecursionError) as exc:
        raise InvalidFixture(f"{path}: is not valid JSON ({exc})") from None


# The largest fixture file (and `PUT /__admin/state` body) the server takes: twice the
# 267 MB that `GET /__admin/state` answers with 1M touchpoints loaded (docs/decisions.md).
MAX_FIXTURE_BYTES = 512 * 2**20


def fixture_files(path: Path) -> list[Path]:
    """The files a `--fixtures` path names: the file itself, or a folder's `*.json` in name order."""
    if path.is_dir():
        files = sorted(path.glob("*.json"))
        if not files:
            raise InvalidFixture(f"{path}: folder holds no *.json fixture files")
        return files
    if not path.exists():
        raise InvalidFixture(f"{path}: no such fixture file or folder")
    return [path]


def load_fixtures(path: str | Path, now: datetime | None = None) -> Dataset:
    """Read and validate a fixture file or folder (files merged into one state)."""
    files = fixture_files(Path(path))
    return validate([(str(file), read_json(file)) for file in files], now, consume=True)


def _default_fixture() -> Path:
    """`fixtures/default.json`: shipped in the wheel as `mockserver/_fixtures`, or beside a checkout."""
    package = Path(__file__).resolve().parent.parent  # mockserver/
    packaged = package / "_fixtures" / "default.json"
    if packaged.exists():
        return packaged
    return package.parent / "fixtures" / "default.json"


DEFAULT_FIXTURE = _default_fixture()
