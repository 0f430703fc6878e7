"""The state of the mock: records, their indexes, id sequences and one lock. No Flask here.

Records are kept in wire form (dates as `@D:` strings) and are never mutated
once stored: an update stores a new dict. Readers may therefore hand stored
records straight to the JSON encoder, the seed's records are shared rather than
copied, and reset can put back the seed's version of just the records a test
changed (an undo log), rebuilding everything from the seed only when that log
is unknown or large.

Every public method takes the lock, so each API request is atomic however many
threads the server runs. Writes are built first, made durable by the optional
persistence, and only then applied in memory: an answered write is on disk
before the answer leaves, and a failed write changes nothing.
"""
from __future__ import annotations

import bisect
import gc
import hmac
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from .clock import Clock
from .dates import format_date
from .errors import BadRequest, NotFound, StorageFailed, shown
from .fixtures import COLLECTIONS, ID_FIELDS, Dataset
from .ids import MAX_ID, MAX_ID_DIGITS
from .records import JSONObject, Record, Recorder

SEQUENCES = ("members", "touchpoint_types", "touchpoints")
SortKey = tuple[Any, ...]  # (created_at, id), (id,) or (touchpoint_timestamp, id)
UNDO_LIMIT = 100_000  # past this many changed records, a reset rebuilds from the seed instead


@contextmanager
def paused_gc() -> Iterator[None]:
    """Build many records without the cycle collector rescanning them all (records hold no cycles).

    Loading 1M touchpoints allocates millions of dicts; each collection pass walks
    every one of them again. Paused, validation and indexing run ~30% faster.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def _durable() -> Iterator[None]:
    """A persistence call whose OSError (full disk, read-only file) is a 503: nothing was changed."""
    try:
        yield
    except OSError as exc:
        raise StorageFailed(f"the database file could not be written ({exc}); nothing was changed") from None


class Persistence(Protocol):
    """Where writes go before they are applied in memory (see persistence.TinyDBFile)."""

    def save(self, puts: dict[str, list[JSONObject]], deletes: dict[str, list[int]],
             next_ids: dict[str, int]) -> None: ...

    def replace(self, dataset: Dataset, next_ids: dict[str, int]) -> None: ...


@dataclass(frozen=True)
class TouchpointInput:
    """One item of a touchpoint batch whose fields have the right JSON types."""

    member_id: int | None
    email: str | None
    touchpoint_type_id: int | None
    type_name: str | None
    touchpoint_monetary_value: float | None
    mailing_id: int | None
    attributes: JSONObject | None
    touchpoint_timestamp: str | None


class _SortedKeys:
    """A list kept in key order: insert and remove by bisection, slice for a page."""

    __slots__ = ("keys",)

    def __init__(self) -> None:
        self.keys: list[SortKey] = []

    def add(self, key: SortKey) -> None:
        if not self.keys or key > self.keys[-1]:
            self.keys.append(key)  # the common case: ids and dates only grow
        else:
            bisect.insort(self.keys, key)

    def remove(self, key: SortKey) -> None:
        index = bisect.bisect_left(self.keys, key)
        if index < len(self.keys) and self.keys[index] == key:
            del self.keys[index]

    def __len__(self) -> int:
        return len(self.keys)


class Store:
    """All accounts' data; methods are named after the API operations they serve."""

    def __init__(self, seed: Dataset, clock: Clock | None = None,
                 persistence: Persistence | None = None, state: Dataset | None = None,
                 next_ids: dict[str, int] | None = None):
        """`seed` is what reset returns to; `state` (default: the seed) is what to start from."""
        self.clock = clock or Clock()
        self._seed = seed
        self._persistence = persistence
        self._lock = threading.RLock()
        self.version = 0  # moves on every change of the data: each committed write, reset, state upload
        self.recorder: Recorder | None = None  # told of each state upload
        self._load(state if state is not None else seed, next_ids)

    # --- construction, reset and state replacement ---------------------------------------

    def _load(self, dataset: Dataset, next_ids: dict[str, int] | None = None) -> None:
        self.version += 1
        self._records: dict[str, dict[int, JSONObject]] = {name: {} for name in COLLECTIONS}
        self._by_public_key: dict[str, JSONObject] = {}
        self._account_types: dict[int, _SortedKeys] = {}
        self._type_names: dict[tuple[int, str], int] = {}
        self._account_members: dict[int, _SortedKeys] = {}
        self._emails: dict[tuple[int, str], int] = {}
        self._member_touchpoints: dict[int, _SortedKeys] = {}
        self._type_touchpoints: dict[int, set[int]] = {}
        with paused_gc():
            for name in COLLECTIONS:
                for record in getattr(dataset, name):
                    self._put(name, record)
        self._next_ids = {
            name: max(max(self._records[name], default=0) + 1, (next_ids or {}).get(name, 1))
            for name in SEQUENCES
        }
        # Undo log: the version each changed record had at the seed (None: it did not exist).
        # Reset then costs what was changed since, not the size of the seed. None = unknown
        # (a loaded file or uploaded state), so the next reset rebuilds everything.
        self._undo: dict[tuple[str, int], JSONObject | None] | None = None
        if dataset is self._seed and next_ids is None:
            self._undo, self._seed_next_ids = {}, dict(self._next_ids)

    def reset(self) -> None:
        """Back to the seed: data and id sequences (and the file, when there is one)."""
        with self._lock:
            if self._undo is None or len(self._undo) > UNDO_LIMIT:
                self._replace(self._seed)
                return
            if self._persistence is not None:
                with _durable():
                    self._persistence.replace(self._seed, self._seed_next_ids)
            self._rewind()

    def _rewind(self) -> None:
        """Undo every change since the seed, in an order that keeps the indexes whole."""
        changed = self._undo
        assert changed is not None  # reset() rebuilds instead when the log is unknown
        self.version += 1
        for collection in ("touchpoints", "members", "touchpoint_types"):  # new since: children first
            for (name, record_id), old in changed.items():
                if name == collection and old is None and record_id in self._records[name]:
                    self._delete(name, record_id)
        for collection in ("touchpoint_types", "members", "touchpoints"):  # changed or deleted: parents first
            for (name, _), old in changed.items():
                if name == collection and old is not None:
                    self._put(name, old)  # replacing in place keeps the child indexes
        self._next_ids = dict(self._seed_next_ids)
        self._undo = {}

    def replace_state(self, dataset: Dataset) -> None:
        """Replace everything with a validated dataset; sequences restart above its ids."""
        with self._lock:
            self._replace(dataset)
            if self.recorder is not None:
                self.recorder("load", {"state": dataset.as_document()})

    def _replace(self, dataset: Dataset) -> None:
        next_ids = {name: max((r[ID_FIELDS[name]] for r in getattr(dataset, name)), default=0) + 1
                    for name in SEQUENCES}
        if self._persistence is not None:
            with _durable():
                self._persistence.replace(dataset, next_ids)
        self._load(dataset)

    def export(self) -> dict[str, list[JSONObject]]:
        """The whole state as a fixture document, each collection in id order."""
        with self._lock:
            return {name: [self._records[name][i] for i in sorted(self._records[name])]
                    for name in COLLECTIONS}

    def next_ids(self) -> dict[str, int]:
        with self._lock:
            return dict(self._next_ids)

    # --- indexes ------------------------------------------------------------------------

    def _put(self, collection: str, record: JSONObject) -> None:
        """Store a new or replacing record and keep every index in step."""
        record_id = record[ID_FIELDS[collection]]
        old = self._records[collection].get(record_id)
        if old is not None:
            self._unindex(collection, old)
        self._records[collection][record_id] = record
        account_id = record["account_id"]
        if collection == "accounts":
            self._by_public_key[record["public_key"]] = record
        elif collection == "touchpoint_types":
            self._account_types.setdefault(account_id, _SortedKeys()).add((record["created_at"], record_id))
            self._type_names[account_id, record["type_name"]] = record_id
            self._type_touchpoints.setdefault(record_id, set())
        elif collection == "members":
            self._account_members.setdefault(account_id, _SortedKeys()).add((record_id,))
            self._emails[account_id, record["email"].lower()] = record_id
            self._member_touchpoints.setdefault(record_id, _SortedKeys())
        else:
            self._member_touchpoints[record["member_id"]].add((record["touchpoint_timestamp"], record_id))
            self._type_touchpoints[record["touchpoint_type_id"]].add(record_id)

    def _unindex(self, collection: str, record: JSONObject) -> None:
        account_id = record["account_id"]
        if collection == "accounts":
            del self._by_public_key[record["public_key"]]
        elif collection == "touchpoint_types":
            self._account_types[account_id].remove((record["created_at"], record["touchpoint_type_id"]))
            if self._type_names.get((account_id, record["type_name"])) == record["touchpoint_type_id"]:
                del self._type_names[account_id, record["type_name"]]  # (a rewind may have given it away)
        elif collection == "members":
            self._account_members[account_id].remove((record["member_id"],))
            if self._emails.get((account_id, record["email"].lower())) == record["member_id"]:
                del self._emails[account_id, record["email"].lower()]
        else:
            keys = self._member_touchpoints.get(record["member_id"])
            if keys is not None:
                keys.remove((record["touchpoint_timestamp"], record["touchpoint_id"]))
            self._type_touchpoints.get(record["touchpoint_type_id"], set()).discard(record["touchpoint_id"])

    def _delete(self, collection: str, record_id: int) -> None:
        record = self._records[collection].pop(record_id)
        self._unindex(collection, record)
        if collection == "touchpoint_types":
            del self._type_touchpoints[record_id]
        elif collection == "members":
            del self._member_touchpoints[record_id]

    def _commit(self, puts: dict[str, list[JSONObject]] | None = None,
                deletes: dict[str, list[int]] | None = None) -> None:
        """Make a write durable (when persisted), then apply it: children deleted first."""
        puts, deletes = puts or {}, deletes or {}
        accounts = self._records["accounts"]
        for records in puts.values():  # however a route read the path: no record of no account,
            for record in records:     # which no state (file, upload, restart) could load again
                if record["account_id"] not in accounts:
                    raise NotFound(f"no account {record['account_id']}")
        self.version += 1  # bumped first: a reader that saw the old number will look again
        if self._persistence is not None:
            with _durable():
                self._persistence.save(puts, deletes, self._next_ids)
        undo = self._undo
        if undo is not None and len(undo) > UNDO_LIMIT:
            undo = self._undo = None  # past the limit a reset rebuilds from the seed: stop logging (and growing)
        for collection in ("touchpoints", "members", "touchpoint_types"):
            for record_id in deletes.get(collection, ()):
                if undo is not None:
                    undo.setdefault((collection, record_id), self._records[collection][record_id])
                self._delete(collection, record_id)
        for collection in ("touchpoint_types", "members", "touchpoints"):
            for record in puts.get(collection, ()):
                if undo is not None:
                    record_id = record[ID_FIELDS[collection]]
                    undo.setdefault((collection, record_id), self._records[collection].get(record_id))
                self._put(collection, record)

    def _allocate(self, collection: str, count: int = 1) -> list[int]:
        """The next `count` ids of a sequence, all of them or none (400): none may pass what the loader accepts."""
        first = self._next_ids[collection]
        if first + count - 1 > MAX_ID:
            left = max(MAX_ID - first + 1, 0)
            raise BadRequest(f"{ID_FIELDS[collection]}s are used up: {count} more would pass {MAX_ID}, the largest "
                             f"id (ids have at most {MAX_ID_DIGITS} digits); {left} left. Reset, or load a state "
                             "with smaller ids")
        self._next_ids[collection] = first + count
        return list(range(first, first + count))

    def _now(self, now: datetime | None) -> str:
        """The request's one clock reading (see Clock), or the clock's when a caller has none."""
        return format_date(now if now is not None else self.clock.now())

    # --- accounts -----------------------------------------------------------------------

    def has_account(self, account_id: int) -> bool:
        return account_id in self._records["accounts"]

    def _require_account(self, account_id: int) -> None:
        """Writes land only in an account that exists, whatever the layers above checked."""
        if account_id not in self._records["accounts"]:
            raise NotFound(f"no account {account_id}")

    def authenticate(self, public_key: str, private_key: str) -> int | None:
        """The account whose keys these are, compared in constant time, or None."""
        account = self._by_public_key.get(public_key)
        expected = account["private_key"] if account else "\0" * max(len(private_key), 1)
        matches = hmac.compare_digest(expected.encode("utf-8", "surrogatepass"),
                                      private_key.encode("utf-8", "surrogatepass"))
        return account["account_id"] if account and matches else None

    def accounts(self) -> list[JSONObject]:
        with self._lock:
            return list(self._records["accounts"].values())

    def list_accounts(self, start: int = 0, end: int | None = None) -> list[JSONObject]:
        """A page of the accounts, keys included, in id order (the control API's view; accounts are few)."""
        with self._lock:
            accounts = self._records["accounts"]
            return [accounts[i] for i in sorted(accounts)[start:end]]

    def count_accounts(self) -> int:
        with self._lock:
            return len(self._records["accounts"])

    def get_account(self, account_id: int) -> JSONObject:
        with self._lock:
            account = self._records["accounts"].get(account_id)
            if account is None:
                raise NotFound(f"no account {account_id}")
            return account

    def _owned(self, collection: str, account_id: int, record_id: int, what: str) -> JSONObject:
        """The record if it exists in this account; otherwise 404, never another account's data."""
        record = self._records[collection].get(record_id)
        if record is None or record["account_id"] != account_id:
            raise NotFound(f"no {what} with id {record_id} in account {account_id}")
        return record

    # --- touchpoint types ---------------------------------------------------------------

    def list_touchpoint_types(self, account_id: int, start: int = 0, end: int | None = None) -> list[JSONObject]:
        with self._lock:
            keys = self._account_types.get(account_id, _SortedKeys()).keys[start:end]
            return [self._records["touchpoint_types"][key[1]] for key in keys]

    def count_touchpoint_types(self, account_id: int) -> int:
        with self._lock:
            return len(self._account_types.get(account_id, ()))

    def get_touchpoint_type(self, account_id: int, type_id: int) -> JSONObject:
        with self._lock:
            return self._owned("touchpoint_types", account_id, type_id, "touchpoint type")

    def _check_type_name(self, account_id: int, type_name: str, type_id: int | None = None) -> None:
        holder = self._type_names.get((account_id, type_name))
        if holder is not None and holder != type_id:
            raise BadRequest(f"type_name {shown(type_name)} already exists in account {account_id} "
                             f"(touchpoint_type_id {holder})")

    def create_touchpoint_type(self, account_id: int, type_name: str, display_name: str,
                               now: datetime | None = None) -> JSONObject:
        with self._lock:
            self._require_account(account_id)
            self._check_type_name(account_id, type_name)
            (type_id,) = self._allocate("touchpoint_types")
            record = Record({"account_id": account_id, "touchpoint_type_id": type_id, "type_name": type_name,
                             "display_name": display_name, "created_at": self._now(now)})
            self._commit(puts={"touchpoint_types": [record]})
            return record

    def update_touchpoint_type(self, account_id: int, type_id: int, type_name: str, display_name: str) -> JSONObject:
        with self._lock:
            old = self._owned("touchpoint_types", account_id, type_id, "touchpoint type")
            self._check_type_name(account_id, type_name, type_id)
            record = Record({**old, "type_name": type_name, "display_name": display_name})
            self._commit(puts={"touchpoint_types": [record]})
            return record

    def delete_touchpoint_type(self, account_id: int, type_id: int) -> None:
        """Delete a type and every touchpoint of that type."""
        with self._lock:
            self._owned("touchpoint_types", account_id, type_id, "touchpoint type")
            self._commit(deletes={"touchpoints": sorted(self._type_touchpoints[type_id]),
                                  "touchpoint_types": [type_id]})

    # --- touchpoints --------------------------------------------------------------------

    def create_touchpoints(self, account_id: int, items: Iterable[TouchpointInput],
                           now: datetime | None = None) -> list[JSONObject]:
        """All or nothing: every item is resolved before any is stored."""
        with self._lock:
            self._require_account(account_id)
            stamp = self._now(now)
            resolved = [(self._member_of(account_id, index, item), self._type_of(account_id, index, item), item)
                        for index, item in enumerate(items)]
            ids = self._allocate("touchpoints", len(resolved))
            records: list[JSONObject] = [Record({
                "account_id": account_id,
                "touchpoint_id": touchpoint_id,
                "member_id": member_id,
                "touchpoint_type_id": type_id,
                "touchpoint_timestamp": item.touchpoint_timestamp or stamp,
                "touchpoint_monetary_value": item.touchpoint_monetary_value,
                "mailing_id": item.mailing_id,
                "attributes": item.attributes,
                "inserted_at": stamp,
            }) for touchpoint_id, (member_id, type_id, item) in zip(ids, resolved, strict=True)]
            self._commit(puts={"touchpoints": records})
            return records

    def _member_of(self, account_id: int, index: int, item: TouchpointInput) -> int:
        by_id = by_email = None
        if item.member_id is not None:
            by_id = self._records["members"].get(item.member_id)
            if by_id is None or by_id["account_id"] != account_id:
                raise BadRequest(f"touchpoints[{index}].member_id: no member {item.member_id} "
                                 f"in account {account_id}")
        if item.email is not None:
            member_id = self._emails.get((account_id, item.email.lower()))
            if member_id is None:
                raise BadRequest(f"touchpoints[{index}].email: no member with email {shown(item.email)} "
                                 f"in account {account_id}")
            by_email = self._records["members"][member_id]
        if by_id is not None and by_email is not None and by_id is not by_email:
            raise BadRequest(f"touchpoints[{index}]: member_id {item.member_id} and email "
                             f"{shown(item.email)} name different members")
        member = by_id or by_email
        if member is None:
            raise BadRequest(f"touchpoints[{index}]: give 'member_id' or 'email' of a member")
        found: int = member["member_id"]
        return found

    def _type_of(self, account_id: int, index: int, item: TouchpointInput) -> int:
        by_id: int | None = None
        by_name: int | None = None
        if item.touchpoint_type_id is not None:
            found = self._records["touchpoint_types"].get(item.touchpoint_type_id)
            if found is None or found["account_id"] != account_id:
                raise BadRequest(f"touchpoints[{index}].touchpoint_type_id: no touchpoint type "
                                 f"{item.touchpoint_type_id} in account {account_id}")
            by_id = item.touchpoint_type_id
        if item.type_name is not None:
            by_name = self._type_names.get((account_id, item.type_name))
            if by_name is None:
                raise BadRequest(f"touchpoints[{index}].type_name: no touchpoint type named "
                                 f"{shown(item.type_name)} in account {account_id}")
        if by_id is not None and by_name is not None and by_id != by_name:
            raise BadRequest(f"touchpoints[{index}]: touchpoint_type_id {item.touchpoint_type_id} and "
                             f"type_name {shown(item.type_name)} name different types")
        type_id = by_id or by_name
        if type_id is None:
            raise BadRequest(f"touchpoints[{index}]: give 'touchpoint_type_id' or 'type_name' of a touchpoint type")
        return type_id

    def member_touchpoints(self, account_id: int, member_id: int, start: int = 0,
                           end: int | None = None) -> list[JSONObject]:
        """A member's touchpoints by `touchpoint_timestamp`, then id; 404 when no such member."""
        with self._lock:
            self._owned("members", account_id, member_id, "member")
            keys = self._member_touchpoints[member_id].keys[start:end]
            return [self._records["touchpoints"][key[1]] for key in keys]

    def count_member_touchpoints(self, account_id: int, member_id: int) -> int:
        with self._lock:
            self._owned("members", account_id, member_id, "member")
            return len(self._member_touchpoints[member_id])

    def get_touchpoint(self, account_id: int, touchpoint_id: int) -> JSONObject:
        with self._lock:
            return self._owned("touchpoints", account_id, touchpoint_id, "touchpoint")

    def delete_touchpoint(self, account_id: int, touchpoint_id: int) -> None:
        with self._lock:
            self._owned("touchpoints", account_id, touchpoint_id, "touchpoint")
            self._commit(deletes={"touchpoints": [touchpoint_id]})

    # --- members ------------------------------------------------------------------------

    def add_member(self, account_id: int, email: str, fields: dict[str, Any],
                   now: datetime | None = None) -> tuple[JSONObject, bool]:
        """Add a member, or merge `fields` into the existing one with that email; (member, added)."""
        with self._lock:
            self._require_account(account_id)
            member_id = self._emails.get((account_id, email.lower()))
            if member_id is not None:
                old = self._records["members"][member_id]
                if not fields:
                    return old, False
                record = Record({**old, "fields": {**old["fields"], **fields}})
                added = False
            else:
                (member_id,) = self._allocate("members")
                record = Record({"account_id": account_id, "member_id": member_id, "email": email,
                                 "status": "active", "member_since": self._now(now), "fields": dict(fields)})
                added = True
            self._commit(puts={"members": [record]})
            return record, added

    def list_members(self, account_id: int, start: int = 0, end: int | None = None) -> list[JSONObject]:
        with self._lock:
            keys = self._account_members.get(account_id, _SortedKeys()).keys[start:end]
            return [self._records["members"][key[0]] for key in keys]

    def count_members(self, account_id: int) -> int:
        with self._lock:
            return len(self._account_members.get(account_id, ()))

    def get_member(self, account_id: int, member_id: int) -> JSONObject:
        with self._lock:
            return self._owned("members", account_id, member_id, "member")

    def get_member_by_email(self, account_id: int, email: str) -> JSONObject:
        with self._lock:
            member_id = self._emails.get((account_id, email.lower()))
            if member_id is None:
                raise NotFound(f"no member with email {shown(email)} in account {account_id}")
            return self._records["members"][member_id]

    def delete_member(self, account_id: int, member_id: int) -> None:
        """Delete a member and the member's touchpoints."""
        with self._lock:
            self._owned("members", account_id, member_id, "member")
            touchpoints = [key[1] for key in self._member_touchpoints[member_id].keys]
            self._commit(deletes={"touchpoints": touchpoints, "members": [member_id]})
