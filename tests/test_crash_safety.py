"""Crash safety of `--db FILE`: SIGKILL under write load, restart, nothing acknowledged is lost.

The CLI runs as a real subprocess on a temporary file. A few client threads
write (touchpoint batches, new types and members, deletes, cascades) and note
every write whose 200 they received. At a random moment (fixed seed) the
server gets SIGKILL; it is restarted on the same file, must start, and must
hold every acknowledged write (and none of the acknowledged deletes); the id
sequences must not reuse an acknowledged id. The same file goes through every
round. Files that do not load must be reported in one line, exit status 2,
and be left byte for byte as they were.
"""
from __future__ import annotations

import json
import os
import random
import threading
import time
from pathlib import Path

import pytest
import requests

from helpers import DEMO_AUTH, CLIServer, check_state_invariants, get_state, run_cli, wait_until

WRITERS = 3


class Ledger:
    """What the clients were told (200) and what they only tried."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.touchpoints: dict[int, dict] = {}
        self.types: dict[int, dict] = {}
        self.members: dict[int, dict] = {}
        self.deleted: dict[str, set[int]] = {"touchpoints": set(), "types": set(), "members": set()}
        self.attempted_deletes: dict[str, set[int]] = {"touchpoints": set(), "types": set(), "members": set()}
        self.max_ids = {"touchpoints": 0, "types": 0, "members": 0}
        self.acknowledged = 0
        self.errors: list[str] = []

    def note_ids(self, kind: str, ids: list[int]) -> None:
        self.max_ids[kind] = max([self.max_ids[kind], *ids])

    def maybe_gone(self, touchpoint: dict) -> bool:
        """A touchpoint whose own, type's or member's delete was attempted may or may not be there."""
        attempted = self.attempted_deletes
        return (touchpoint["touchpoint_id"] in attempted["touchpoints"]
                or touchpoint["touchpoint_type_id"] in attempted["types"]
                or touchpoint["member_id"] in attempted["members"])


def _writer(index: int, round_number: int, url: str, ledger: Ledger, stop: threading.Event) -> None:
    rng = random.Random(round_number * 100 + index)
    session = requests.Session()
    session.auth = DEMO_AUTH
    mine_types: list[int] = [300, 200]
    mine_members: list[int] = [444, 555]
    mine_touchpoints: list[int] = []
    n = 0
    try:
        while not stop.is_set() and n < 5000:
            n += 1
            roll = rng.random()
            if roll < 0.55:
                batch = [{"member_id": rng.choice(mine_members), "touchpoint_type_id": rng.choice(mine_types),
                          "touchpoint_monetary_value": rng.choice([None, 2.5]), "attributes": {"w": index, "n": n}}
                         for _ in range(rng.randint(1, 10))]
                response = session.post(f"{url}/100/touchpoints/members", json={"touchpoints": batch}, timeout=10)
                if response.status_code == 400:
                    continue  # a type or member deleted by another writer meanwhile
                assert response.status_code == 200, response.text
                created = response.json()
                with ledger.lock:
                    for touchpoint in created:
                        ledger.touchpoints[touchpoint["touchpoint_id"]] = touchpoint
                    ledger.note_ids("touchpoints", [t["touchpoint_id"] for t in created])
                    ledger.acknowledged += 1
                mine_touchpoints += [t["touchpoint_id"] for t in created]
            elif roll < 0.65:
                body = {"type_name": f"crash_{round_number}_{index}_{n}", "display_name": "Crash"}
                response = session.post(f"{url}/100/touchpoints", json=body, timeout=10)
                assert response.status_code == 200, response.text
                record = response.json()
                with ledger.lock:
                    ledger.types[record["touchpoint_type_id"]] = record
                    ledger.note_ids("types", [record["touchpoint_type_id"]])
                    ledger.acknowledged += 1
                mine_types.append(record["touchpoint_type_id"])
            elif roll < 0.72:
                email = f"crash{round_number}.{index}.{n}@example.com"
                response = session.post(f"{url}/100/members/add", json={"email": email, "fields": {"n": n}},
                                        timeout=10)
                assert response.status_code == 200, response.text
                member_id = response.json()["member_id"]
                with ledger.lock:
                    ledger.members[member_id] = {"email": email, "fields": {"n": n}}
                    ledger.note_ids("members", [member_id])
                    ledger.acknowledged += 1
                mine_members.append(member_id)
            else:
                kind, pool, path = ("touchpoints", mine_touchpoints, "touchpoints/members/touchpoints")
                if roll > 0.97 and len(mine_types) > 2:
                    kind, pool, path = ("types", mine_types, "touchpoints")
                elif roll > 0.95 and len(mine_members) > 2:
                    kind, pool, path = ("members", mine_members, "members")
                if not pool or (kind != "touchpoints" and len(pool) <= 2):
                    continue
                victim = pool.pop(rng.randrange(2 if kind != "touchpoints" else 0, len(pool)))
                with ledger.lock:
                    ledger.attempted_deletes[kind].add(victim)
                response = session.delete(f"{url}/100/{path}/{victim}", timeout=10)
                assert response.status_code in (200, 404), response.text  # 404: gone by a cascade already
                with ledger.lock:
                    ledger.deleted[kind].add(victim)
                    ledger.acknowledged += 1
    except (requests.RequestException, ValueError):
        pass  # the server was killed: no answer, or half of one
    except Exception as exc:
        ledger.errors.append(f"writer {index}: {exc!r}")
    finally:
        session.close()


def _verify(url: str, ledger: Ledger) -> dict:
    state = get_state(url)
    check_state_invariants(state)
    touchpoints = {t["touchpoint_id"]: t for t in state["touchpoints"]}
    types = {t["touchpoint_type_id"]: t for t in state["touchpoint_types"]}
    members = {m["member_id"]: m for m in state["members"]}
    for touchpoint_id, record in ledger.touchpoints.items():
        if ledger.maybe_gone(record):
            continue
        assert touchpoints.get(touchpoint_id) == record, f"acknowledged touchpoint {touchpoint_id} lost"
    for type_id, record in ledger.types.items():
        if type_id not in ledger.attempted_deletes["types"]:
            assert types.get(type_id) == record, f"acknowledged type {type_id} lost"
    for member_id, record in ledger.members.items():
        if member_id not in ledger.attempted_deletes["members"]:
            assert member_id in members, f"acknowledged member {member_id} lost"
            assert members[member_id]["email"] == record["email"]
            assert members[member_id]["fields"] == record["fields"]
    assert not ledger.deleted["touchpoints"] & set(touchpoints), "an acknowledged delete came back"
    assert not ledger.deleted["types"] & set(types), "an acknowledged delete came back"
    assert not ledger.deleted["members"] & set(members), "an acknowledged delete came back"
    for type_id in ledger.deleted["types"]:
        assert not any(t["touchpoint_type_id"] == type_id for t in touchpoints.values())
    return state


def _check_ids_not_reused(url: str, ledger: Ledger) -> None:
    """The next ids after a restart are above every id ever acknowledged, deleted ones included."""
    session = requests.Session()
    session.auth = DEMO_AUTH
    with session:
        created = session.post(f"{url}/100/touchpoints/members", json={"touchpoints": [
            {"member_id": 444, "touchpoint_type_id": 300}]}, timeout=10)
        assert created.status_code == 200, created.text
        type_ = session.post(f"{url}/100/touchpoints", json={"type_name": f"probe_{time.monotonic_ns()}",
                                                             "display_name": "Probe"}, timeout=10)
        email = f"probe{time.monotonic_ns()}@example.com"
        member = session.post(f"{url}/100/members/add", json={"email": email}, timeout=10)
    assert created.json()[0]["touchpoint_id"] > ledger.max_ids["touchpoints"]
    assert type_.json()["touchpoint_type_id"] > ledger.max_ids["types"]
    assert member.json()["member_id"] > ledger.max_ids["members"]
    with ledger.lock:
        ledger.touchpoints[created.json()[0]["touchpoint_id"]] = created.json()[0]
        ledger.types[type_.json()["touchpoint_type_id"]] = type_.json()
        ledger.members[member.json()["member_id"]] = {"email": email, "fields": {}}
        ledger.note_ids("touchpoints", [created.json()[0]["touchpoint_id"]])
        ledger.note_ids("types", [type_.json()["touchpoint_type_id"]])
        ledger.note_ids("members", [member.json()["member_id"]])


def _kill_rounds(tmp_path: Path, kills: int, seed: int) -> Ledger:
    db = tmp_path / "state.json"
    rng = random.Random(seed)
    ledger = Ledger()
    survived = 0
    for round_number in range(kills):
        server = CLIServer("--db", str(db))
        try:
            _verify(server.url, ledger)
            _check_ids_not_reused(server.url, ledger)
            stop = threading.Event()
            writers = [threading.Thread(target=_writer, args=(i, round_number, server.url, ledger, stop), daemon=True)
                       for i in range(WRITERS)]
            acknowledged_before = ledger.acknowledged
            for writer in writers:
                writer.start()
            assert wait_until(lambda n=acknowledged_before: ledger.acknowledged >= n + 10, timeout=60), \
                "the writers got no answers"
            time.sleep(rng.uniform(0.0, 1.2))  # then a random moment under load
        finally:
            server.kill()
        stop.set()
        for writer in writers:
            writer.join(timeout=30)
            assert not writer.is_alive()
        assert not ledger.errors, ledger.errors
        survived += 1
    with CLIServer("--db", str(db)) as server:  # the last restart
        state = _verify(server.url, ledger)
        _check_ids_not_reused(server.url, ledger)
    assert survived == kills
    assert ledger.acknowledged >= kills * 10
    print(f"crash safety: {kills} SIGKILLs survived, {ledger.acknowledged} acknowledged writes, "
          f"{len(ledger.touchpoints)} touchpoints acknowledged, {len(state['touchpoints'])} in the final state")
    return ledger


def test_sigkill_under_write_load_loses_no_acknowledged_write(tmp_path):
    _kill_rounds(tmp_path, kills=2, seed=20261128)


@pytest.mark.slow
def test_sigkill_under_write_load_many_times(tmp_path):
    _kill_rounds(tmp_path, kills=12, seed=7)


# --- files that do not load ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def good_db(tmp_path_factory) -> bytes:
    """The bytes of a real database file with some writes in it."""
    db = tmp_path_factory.mktemp("good") / "state.json"
    with CLIServer("--db", str(db)) as server:
        session = requests.Session()
        session.auth = DEMO_AUTH
        for n in range(5):
            assert session.post(f"{server.url}/100/touchpoints/members", json={"touchpoints": [
                {"member_id": 444, "touchpoint_type_id": 300, "attributes": {"n": n}}]}).status_code == 200
        session.close()
    return db.read_bytes()


def _damaged(good: bytes) -> dict[str, bytes]:
    document = json.loads(good)
    orphan = json.loads(good)
    first = next(iter(orphan["touchpoints"]))
    orphan["touchpoints"][first]["member_id"] = 987654  # a touchpoint of no member
    return {
        "truncated": good[: len(good) // 2],
        "truncated-by-one": good[:-1],
        "garbage": bytes(range(256)) * 4,
        "invalid-utf8": b'{"touchpoints": {"1": "\xff\xfe"}}',
        "not-a-database": b"[1, 2, 3]",
        "empty": b"",
        "nan": good.replace(b'"touchpoint_monetary_value":null', b'"touchpoint_monetary_value":NaN', 1)
               if b'"touchpoint_monetary_value":null' in good else good[:-1],
        "orphan-record": json.dumps(orphan).encode(),
        "unknown-table": json.dumps({**document, "secrets": {}}).encode(),
    }


@pytest.mark.parametrize("damage", ["truncated", "truncated-by-one", "garbage", "invalid-utf8", "not-a-database",
                                    "empty", "nan", "orphan-record", "unknown-table"])
def test_a_db_file_that_does_not_load_is_reported_and_left_untouched(tmp_path, good_db, damage):
    db = tmp_path / "state.json"
    content = _damaged(good_db)[damage]
    db.write_bytes(content)
    os.utime(db, ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))
    before = db.stat()
    result = run_cli("--db", str(db))
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1, f"expected one clear error line, got: {result.stderr.decode()!r}"
    assert str(db) in lines[0] and "Traceback" not in lines[0]
    assert b"serving on" not in result.stdout
    assert db.read_bytes() == content, "the damaged file was changed"
    assert db.stat().st_mtime_ns == before.st_mtime_ns
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"], "files were left beside it"


def test_the_good_file_itself_loads(tmp_path, good_db):
    """The damage above is what fails: the same file undamaged serves its writes."""
    db = tmp_path / "state.json"
    db.write_bytes(good_db)
    with CLIServer("--db", str(db)) as server:
        state = get_state(server.url)
    check_state_invariants(state)
    assert sorted(t["attributes"]["n"] for t in state["touchpoints"] if t["attributes"] and "n" in t["attributes"]) \
        == [0, 1, 2, 3, 4]
