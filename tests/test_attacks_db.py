"""Attacks on `--db FILE`: two servers on one file, writes a restart refuses, unwritable files.

Every acknowledged write must load again after a kill; a file that cannot be
written is one line and exit status 2 at start and a 503 that changes nothing
while running. "Killed" in-process means the file is let go without the clean
stop's fold-in (TinyDBFile.release), which leaves the files as SIGKILL does.
"""
from __future__ import annotations

import copy
import functools
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver import Config, MockServer, create_app
from mockserver.core import strict_json
from mockserver.core.errors import InvalidFixture
from mockserver.core.filestore import TinyDBFile
from mockserver.wire import mock_of

import helpers
from helpers import DEMO_AUTH, MOCKSERVER, REPO, CLIServer, get_state, run_cli

_open: list = []


def open_app(db, **kwargs):
    app = create_app(Config(db=db, auth=False, **kwargs))
    _open.append(app)
    return app


def kill(app) -> None:
    """Let the file go as SIGKILL would: no fold-in of the write-ahead log, no clean stop."""
    app.extensions["emma_mock"].database.release()


@pytest.fixture(autouse=True)
def _release_files():
    yield
    while _open:
        kill(_open.pop())


def big_fixture(folder: Path, touchpoints: int = 1500) -> Path:
    """A fixture whose database file is past REWRITE_LIMIT (so writes go to the write-ahead log) or not."""
    path = helpers.big_fixture(folder, touchpoints)
    assert (path.stat().st_size > TinyDBFile.REWRITE_LIMIT) == (touchpoints > 1000)
    return path


def nested(depth: int) -> dict:
    """An object `depth` levels deep."""
    value: dict = {}
    for _ in range(depth - 1):
        value = {"n": value}
    return value


def one_line_exit_2(result: subprocess.CompletedProcess, *words: str) -> str:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1, f"expected one error line, got {result.stderr.decode()!r}"
    assert "Traceback" not in lines[0] and b"serving on" not in result.stdout
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


# --- one server per file --------------------------------------------------------------------------

def test_a_second_server_on_a_file_in_use_is_refused_and_a_kill_frees_the_file(tmp_path):
    db = tmp_path / "state.json"
    first = CLIServer("--db", str(db))
    try:
        session = requests.Session()
        session.auth = DEMO_AUTH
        created = [session.post(f"{first.url}/100/touchpoints", json={"type_name": f"kept{n}", "display_name": "K"},
                                timeout=10).json()["touchpoint_type_id"] for n in range(3)]
        session.close()
        second = run_cli("--db", str(db))
        one_line_exit_2(second, str(db), "in use", str(first.pid))
        assert get_state(first.url)["touchpoint_types"][-1]["touchpoint_type_id"] == created[-1]
    finally:
        first.kill()  # SIGKILL
    with CLIServer("--db", str(db)) as again:  # the lock went with the killed process
        ids = {t["touchpoint_type_id"] for t in get_state(again.url)["touchpoint_types"]}
    assert set(created) <= ids


def test_two_mock_servers_in_one_process_cannot_share_a_file(tmp_path):
    db = tmp_path / "state.json"
    with MockServer(port=0, db=db) as server:
        with pytest.raises(InvalidFixture, match="in use by another emma-mock server"):
            MockServer(port=0, db=db)
        assert server.session.post(server.url + "/100/members/add", json={"email": "one@example.com"}).ok
    with MockServer(port=0, db=db) as again:  # free once the first stopped
        assert any(m["email"] == "one@example.com" for m in get_state(again.url)["members"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]


def test_a_file_that_fails_to_load_is_left_free(tmp_path):
    db = tmp_path / "state.json"
    db.write_text("{broken")
    for _ in range(2):  # the failed start did not keep the lock
        with pytest.raises(InvalidFixture, match="not valid JSON"):
            open_app(db)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]


# --- whatever a write accepts, a restart loads ----------------------------------------------------

@pytest.mark.parametrize("wal", [True, False], ids=["wal", "rewrite"])
def test_writes_at_the_nesting_cap_load_after_a_kill(tmp_path, wal):
    db = tmp_path / "state.json"
    fixtures = big_fixture(tmp_path) if wal else big_fixture(tmp_path, touchpoints=1)
    app = open_app(db, fixtures=fixtures)
    client = app.test_client()
    cap = strict_json.MAX_DEPTH
    touchpoint = client.post("/100/touchpoints/members", data=json.dumps(
        {"touchpoints": [{"member_id": 1, "touchpoint_type_id": 1, "attributes": nested(cap - 3)}]}),
        content_type="application/json")
    member = client.post("/100/members/add", data=json.dumps({"email": "deep@example.com", "fields": nested(cap - 1)}),
                         content_type="application/json")
    assert touchpoint.status_code == 200 and member.status_code == 200, (touchpoint.json, member.json)
    assert (tmp_path / "state.json.wal").exists() == wal
    state = client.get("/__admin/state").json
    kill(app)
    assert open_app(db).test_client().get("/__admin/state").json == state


def test_a_write_to_an_account_that_does_not_exist_never_reaches_the_file(tmp_path):
    db = tmp_path / "state.json"
    with MockServer(port=0, db=db, auth=False) as server:
        host, port = server.url.split("//")[1].split(":")
        body = b'{"type_name": "ghost", "display_name": "Ghost"}'
        path = b"/%D9%A9%D9%A9%D9%A9/touchpoints"  # 999 in Arabic-Indic digits (no account 999)
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(b"POST " + path + b" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         b"Connection: close\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        status = int(answer.split(b" ", 2)[1])
        assert 400 <= status < 500, answer
        state = get_state(server.url)
        assert all(t["account_id"] in (100, 101) for t in state["touchpoint_types"])
        assert requests.put(server.url + "/__admin/state", json=state, timeout=10).status_code == 200
    with MockServer(port=0, db=db) as again:
        assert get_state(again.url) == state


_text = st.text(st.characters(codec=None, blacklist_categories=()), max_size=30)  # lone surrogates too
_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(10 ** 30), 10 ** 30) | st.floats(allow_nan=False, allow_infinity=False)
    | _text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3), max_leaves=12)
_write = st.one_of(
    st.fixed_dictionaries({"touchpoints": st.lists(st.fixed_dictionaries(
        {"member_id": st.just(444), "type_name": st.just("visited_website")},
        optional={"attributes": st.dictionaries(_text, _json, max_size=4),
                  "touchpoint_monetary_value": st.floats(allow_nan=False, allow_infinity=False) | st.integers(-10**300, 10**300),
                  "mailing_id": st.integers(-(10 ** 40), 10 ** 40),
                  "touchpoint_timestamp": st.datetimes().map(lambda d: d.isoformat(timespec="seconds") + "Z")}),
        min_size=1, max_size=3)}).map(lambda body: ("/100/touchpoints/members", body)),
    st.fixed_dictionaries({"email": st.from_regex(r"[a-z]{1,8}@[a-z]{1,8}\.[a-z]{2,3}", fullmatch=True),
                           "fields": st.dictionaries(_text, _json, max_size=4)})
    .map(lambda body: ("/100/members/add", body)),
    st.fixed_dictionaries({"type_name": _text.filter(str.strip), "display_name": _text.filter(str.strip)})
    .map(lambda body: ("/100/touchpoints", body)),
)


@pytest.mark.parametrize("wal", [True, False], ids=["wal", "rewrite"])
def test_every_accepted_write_loads_after_a_kill(tmp_path_factory, monkeypatch, wal):
    if wal:
        monkeypatch.setattr(TinyDBFile, "REWRITE_LIMIT", 0)

    @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(_write, min_size=1, max_size=6))
    def check(writes):
        db = tmp_path_factory.mktemp("prop") / "state.json"
        app = open_app(db)
        client = app.test_client()
        for path, body in writes:
            client.post(path, data=json.dumps(body), content_type="application/json")
        state = client.get("/__admin/state").json
        kill(app)
        _open.remove(app)
        reopened = open_app(db)
        assert reopened.test_client().get("/__admin/state").json == state
        kill(reopened)
        _open.remove(reopened)

    check()


def test_wal_lines_left_by_a_kill_during_a_state_upload_are_not_replayed(tmp_path):
    """Killed after the new file was in place but before the write-ahead log was removed."""
    db = tmp_path / "state.json"
    app = open_app(db, fixtures=big_fixture(tmp_path))
    client = app.test_client()
    for _ in range(3):
        assert client.post("/100/touchpoints/members", json={"touchpoints": [
            {"member_id": 1, "touchpoint_type_id": 1}]}).status_code == 200
    wal = tmp_path / "state.json.wal"
    old_lines = wal.read_bytes()
    uploaded = {"accounts": [{"account_id": 100, "public_key": "p", "private_key": "s"}],
                "members": [{"account_id": 100, "member_id": 7, "email": "new@example.com"}]}
    assert client.put("/__admin/state", json=uploaded).status_code == 200
    state = client.get("/__admin/state").json
    kill(app)
    wal.write_bytes(old_lines)  # as if the kill came before its removal
    assert open_app(db).test_client().get("/__admin/state").json == state


# --- a file that cannot be written ----------------------------------------------------------------

@functools.cache  # the probe below is a Python start of its own: once per worker is enough
def _as_nobody() -> tuple[str, ...]:
    """A command prefix that drops root, for whom permission bits do not apply."""
    if os.geteuid() != 0:
        return ()
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: permission bits cannot be tested")
    prefix = ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups")
    reach = subprocess.run([*prefix, *MOCKSERVER[:2], "-c", "import mockserver"], capture_output=True, timeout=60)
    if reach.returncode != 0:  # a checkout inside a folder only root may enter (mktemp -d is mode 700)
        pytest.skip(f"an unprivileged user cannot run this checkout's Python: {reach.stderr.decode()[-200:]}")
    return prefix


@pytest.fixture
def open_folder():
    """A folder anyone may enter (pytest's tmp_path is root's own, mode 700)."""
    folder = Path(tempfile.mkdtemp(prefix="emma-mock-ro-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.parametrize("case", ["read-only folder", "read-only file", "parent is a file", "no such folder"])
def test_an_unwritable_db_is_one_line_and_exit_2_at_start(open_folder, case):
    if case == "read-only folder":
        (open_folder / "ro").mkdir(mode=0o555)
        db = open_folder / "ro" / "state.json"
    elif case == "read-only file":
        good = open_folder / "seed" / "state.json"
        good.parent.mkdir()
        with MockServer(port=0, db=good):
            pass
        (open_folder / "rw").mkdir(mode=0o777)
        (open_folder / "rw").chmod(0o777)
        db = open_folder / "rw" / "state.json"
        shutil.copy(good, db)
        db.chmod(0o444)
    elif case == "parent is a file":
        (open_folder / "file").write_text("x")
        db = open_folder / "file" / "state.json"
    else:
        db = open_folder / "missing" / "state.json"
    before = db.read_bytes() if db.exists() else None
    prefix = _as_nobody() if case.startswith("read-only") else ()
    result = subprocess.run([*prefix, *MOCKSERVER, "--port", "0", "--db", str(db)],
                            capture_output=True, timeout=30, cwd=str(REPO))
    one_line_exit_2(result)
    if before is not None:
        assert db.read_bytes() == before


def _full_disk(*args, **kwargs):
    raise OSError(28, "No space left on device")


@pytest.mark.parametrize("wal", [True, False], ids=["wal", "rewrite"])
def test_a_full_disk_is_503_and_changes_nothing_for_writes_reset_and_upload(tmp_path, monkeypatch, wal):
    db = tmp_path / "state.json"
    app = open_app(db, fixtures=big_fixture(tmp_path) if wal else big_fixture(tmp_path, 1))
    client = app.test_client()
    assert client.post("/100/touchpoints/members", json={"touchpoints": [
        {"member_id": 1, "touchpoint_type_id": 1}]}).status_code == 200
    files = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    state = client.get("/__admin/state").json
    for call in ("os.fsync", "_fdatasync", "os.write"):  # a full disk: no data reaches it
        monkeypatch.setattr(f"mockserver.core.filestore.{call}", _full_disk)
    attempts = [
        client.post("/100/touchpoints/members", json={"touchpoints": [{"member_id": 1, "touchpoint_type_id": 1}]}),
        client.post("/100/members/add", json={"email": "lost@example.com"}),
        client.delete("/100/touchpoints/members/touchpoints/1"),
        client.post("/__admin/reset"),
        client.put("/__admin/state", json={"accounts": [{"account_id": 100, "public_key": "p", "private_key": "s"}]}),
    ]
    monkeypatch.undo()
    for response in attempts:
        assert response.status_code == 503, (response.request.path, response.json)
        assert "could not be written" in response.json["error"]
    assert client.get("/__admin/state").json == state
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == files
    assert client.post("/__admin/reset").status_code == 200  # the disk has room again
    state = client.get("/__admin/state").json
    kill(app)
    assert open_app(db).test_client().get("/__admin/state").json == state


def test_a_failed_rename_is_503_for_reset_and_upload(tmp_path, monkeypatch):
    db = tmp_path / "state.json"
    client = open_app(db).test_client()
    client.delete("/100/touchpoints/300")
    before, state = db.read_bytes(), client.get("/__admin/state").json
    monkeypatch.setattr("mockserver.core.filestore.os.replace", _full_disk)
    for refused in (client.post("/__admin/reset"), client.put("/__admin/state", json=state)):
        assert (refused.status_code, refused.json) == (503, {"error": "the database file could not be written "
                                                                      "([Errno 28] No space left on device); "
                                                                      "nothing was changed"})
    monkeypatch.undo()
    assert db.read_bytes() == before and client.get("/__admin/state").json == state
    faults = client.get("/__admin/faults")
    assert (faults.status_code, faults.json) == (200, [])


def test_a_half_written_wal_line_that_cannot_be_cut_does_not_damage_the_next_write(tmp_path, monkeypatch):
    db = tmp_path / "state.json"
    app = open_app(db, fixtures=big_fixture(tmp_path))
    client = app.test_client()
    body = {"touchpoints": [{"member_id": 1, "touchpoint_type_id": 1}]}
    assert client.post("/100/touchpoints/members", json=body).status_code == 200
    real_write = os.write

    def half_write(fd, data):
        return real_write(fd, data[: len(data) // 2])  # the disk filled up mid-line

    monkeypatch.setattr("mockserver.core.filestore.os.write", half_write)
    monkeypatch.setattr("mockserver.core.filestore.os.ftruncate", _full_disk)
    refused = client.post("/100/touchpoints/members", json=body)
    assert refused.status_code == 503
    assert refused.json["error"].startswith("the database file could not be written ([Errno 28] short write to ")
    assert refused.json["error"].endswith("state.json.wal); nothing was changed")
    monkeypatch.undo()
    kept = client.post("/100/touchpoints/members", json=body)
    assert kept.status_code == 200
    assert [(t["member_id"], t["touchpoint_type_id"]) for t in kept.json] == [(1, 1)]
    state = client.get("/__admin/state").json
    kill(app)
    assert open_app(db).test_client().get("/__admin/state").json == state


def test_a_stopped_server_writes_nothing_more_to_the_file(tmp_path):
    """A request still running when its server stopped must not overwrite the file's next owner."""
    db = tmp_path / "state.json"
    app = create_app(Config(db=db, auth=False))
    mock_of(app).close()  # what stop() does, while a worker may still hold a request
    before = db.read_bytes()
    answer = app.test_client().post("/100/touchpoints", json={"type_name": "late", "display_name": "L"})
    assert answer.status_code == 503 and "released" in answer.get_json()["error"]
    assert db.read_bytes() == before


def test_a_stopped_mockserver_cannot_start_again_on_its_freed_file(tmp_path):
    server = MockServer(db=tmp_path / "state.json").start()
    server.stop()
    with pytest.raises(RuntimeError, match="create a new one"):
        server.start()


# --- id sequences never pass what the loader accepts ----------------------------------------------

MAX_ID = 10**18 - 1  # the largest id a fixture, a state upload or a `--db` file may hold (18 digits)


def _state_with_ids_up_to(url: str, top: int) -> dict:
    """The demo state with one more member, type and touchpoint in account 100, each with id `top`."""
    state = get_state(url)
    state["members"].append({"account_id": 100, "member_id": top, "email": "top@example.com"})
    state["touchpoint_types"].append({"account_id": 100, "touchpoint_type_id": top, "type_name": "top",
                                      "display_name": "Top"})
    state["touchpoints"].append({"account_id": 100, "touchpoint_id": top, "member_id": top,
                                 "touchpoint_type_id": top})
    return state


_CREATES = {
    "member add": ("/100/members/add", {"email": "one-more@example.com"}),
    "type create": ("/100/touchpoints", {"type_name": "one_more", "display_name": "One more"}),
    "touchpoint batch": ("/100/touchpoints/members", {"touchpoints": [{"member_id": 444, "touchpoint_type_id": 300}]}),
}


def test_a_create_past_the_largest_id_is_4xx_naming_the_limit_and_the_file_loads_again(tmp_path):
    """Each kind of create in turn on one server at the limit: each refused, none changing the state."""
    db = tmp_path / "state.json"
    with CLIServer("--db", str(db), "--auth", "off") as server:
        state = _state_with_ids_up_to(server.url, MAX_ID)
        assert requests.put(server.url + "/__admin/state", json=state, timeout=10).status_code == 200
        state = get_state(server.url)
        for create, (path, body) in _CREATES.items():
            answer = requests.post(server.url + path, json=body, timeout=10)
            assert 400 <= answer.status_code < 500, (create, answer.status_code, answer.text)
            assert "18 digits" in answer.json()["error"], (create, answer.json())
            assert get_state(server.url) == state, create
        server.kill()  # SIGKILL
    with CLIServer("--db", str(db), "--auth", "off") as again:  # the file still loads
        assert get_state(again.url) == state
        merged = requests.post(again.url + "/100/members/add",  # an existing email needs no new id
                               json={"email": "top@example.com", "fields": {"k": "v"}}, timeout=10)
        assert merged.status_code == 200 and merged.json()["member_id"] == MAX_ID, merged.text


def test_a_touchpoint_batch_must_fit_whole_below_the_limit(tmp_path):
    db = tmp_path / "state.json"
    with CLIServer("--db", str(db), "--auth", "off") as server:
        state = _state_with_ids_up_to(server.url, MAX_ID - 5)  # ids MAX_ID-4 .. MAX_ID are left: five
        assert requests.put(server.url + "/__admin/state", json=state, timeout=10).status_code == 200
        state = get_state(server.url)
        item = {"member_id": 444, "touchpoint_type_id": 300}
        for size in (10, 6):
            answer = requests.post(server.url + "/100/touchpoints/members", json={"touchpoints": [item] * size},
                                   timeout=10)
            assert answer.status_code == 400 and "18 digits" in answer.json()["error"], answer.text
            assert get_state(server.url) == state
        last = requests.post(server.url + "/100/touchpoints/members", json={"touchpoints": [item] * 5}, timeout=10)
        assert last.status_code == 200, last.text
        assert [t["touchpoint_id"] for t in last.json()] == list(range(MAX_ID - 4, MAX_ID + 1))
        state = get_state(server.url)
        server.kill()  # SIGKILL
    with CLIServer("--db", str(db), "--auth", "off") as again:
        assert get_state(again.url) == state
        refused = requests.post(again.url + "/100/touchpoints/members", json={"touchpoints": [item]}, timeout=10)
        assert refused.status_code == 400 and "18 digits" in refused.json()["error"], refused.text


def test_a_file_whose_id_sequence_is_past_the_limit_is_refused_at_load(tmp_path):
    db = tmp_path / "state.json"
    with MockServer(port=0, db=db):
        pass
    tables = json.loads(db.read_text())
    tables["_meta"]["1"]["next_ids"]["members"] = MAX_ID + 2  # no write could make it: a hand-edited file
    db.write_text(json.dumps(tables))
    before = db.read_bytes()
    one_line_exit_2(run_cli("--db", str(db)), str(db), "next_ids", "18 digits")
    assert db.read_bytes() == before


# --- keys a client can send -----------------------------------------------------------------------

@pytest.mark.parametrize("field, key", [
    ("public_key", "clé-publique"), ("private_key", "geheim-ß"), ("private_key", "tab\there"),
    ("public_key", "del\x7f"), ("private_key", "😀"), ("public_key", "user:name"),
])
def test_a_key_no_client_can_send_is_refused_at_upload_naming_the_record(field, key):
    with MockServer(port=0, auth=False) as server:
        before = get_state(server.url)
        state = copy.deepcopy(before)
        state["accounts"][1][field] = key
        answer = requests.put(server.url + "/__admin/state", data=json.dumps(state), timeout=10)
        assert answer.status_code == 400, answer.text
        error = answer.json()["error"]
        assert "accounts[1]" in error and field in error, error
        assert requests.get(server.url + "/__admin/state", timeout=10).json() == before  # nothing changed


def test_a_fixture_with_a_non_ascii_key_is_one_line_and_exit_2(tmp_path):
    fixture = json.loads((REPO / "fixtures" / "default.json").read_text())
    fixture["accounts"][0]["private_key"] = "demo-private-key-é"
    path = tmp_path / "keys.json"
    path.write_text(json.dumps(fixture, ensure_ascii=False), encoding="utf-8")
    one_line_exit_2(run_cli("--fixtures", str(path)), str(path), "accounts[0]", "private_key", "ASCII")


# --- links: the file behind a link, and nothing written through a planted one ---------------------

def _seeded(path: Path) -> Path:
    """A database file as a server leaves it (the fixtures written in)."""
    path.parent.mkdir(exist_ok=True)
    with MockServer(port=0, db=path):
        pass
    return path


def _add_member(url: str, email: str) -> requests.Response:
    return requests.post(url + "/100/members/add", json={"email": email}, auth=DEMO_AUTH, timeout=10)


def _members_in(db: Path) -> set[str]:
    """The emails a database file holds, read as TinyDB reads it (no server)."""
    return {m["email"] for m in json.loads(db.read_text())["members"].values()}


@pytest.mark.parametrize("target", ["existing", "not yet created"])
def test_db_through_a_symlink_writes_the_file_it_points_to(tmp_path, target):
    real = tmp_path / "data" / "state.json"
    if target == "existing":
        _seeded(real)
    else:
        real.parent.mkdir()
    link = tmp_path / "link.json"
    link.symlink_to(real)
    with CLIServer("--db", str(link)) as server:
        assert _add_member(server.url, "through-link@example.com").status_code == 200
        assert "through-link@example.com" in _members_in(real)  # on disk before the answer left
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "link.json"]  # no lock or file beside the link
    with CLIServer("--db", str(real)) as again:
        assert any(m["email"] == "through-link@example.com" for m in get_state(again.url)["members"])


def test_two_servers_on_two_links_to_one_file_are_one_file_one_server(tmp_path):
    real = _seeded(tmp_path / "data" / "state.json")
    (tmp_path / "a.json").symlink_to(real)
    (tmp_path / "b.json").symlink_to(Path("data") / "state.json")  # a relative link too
    (tmp_path / "dir").symlink_to(tmp_path / "data", target_is_directory=True)
    with CLIServer("--db", str(tmp_path / "a.json")) as first:
        # every other name is refused by the lock (in this process, no start to pay), and on the CLI as one line
        for other in ("b.json", "data/state.json", "dir/state.json"):
            with pytest.raises(InvalidFixture, match=f"in use by another emma-mock server \\(pid {first.pid}\\)"):
                MockServer(port=0, db=tmp_path / other)
        one_line_exit_2(run_cli("--db", str(tmp_path / "dir" / "state.json")), "in use", str(first.pid))
        assert _add_member(first.url, "kept@example.com").status_code == 200
    assert "kept@example.com" in _members_in(real)


def test_a_link_changed_while_running_does_not_move_the_state(tmp_path):
    first, second = _seeded(tmp_path / "one" / "state.json"), _seeded(tmp_path / "two" / "state.json")
    link = tmp_path / "link.json"
    link.symlink_to(first)
    with CLIServer("--db", str(link)) as server:
        untouched = second.read_bytes()
        link.unlink()
        link.symlink_to(second)  # someone points the link elsewhere while the server runs
        assert _add_member(server.url, "stays@example.com").status_code == 200
        assert "stays@example.com" in _members_in(first)
        assert second.read_bytes() == untouched
        one_line_exit_2(run_cli("--db", str(first)), "in use")  # the file it serves is still its own


def _victim(folder: Path) -> Path:
    victim = folder / "precious.txt"
    victim.write_text("precious data\n")
    return victim


@pytest.mark.parametrize("kind", ["symlink", "hard link"])
@pytest.mark.parametrize("db_is_a_link", [False, True], ids=["db", "db-via-link"])
def test_a_planted_lock_link_is_refused_and_its_target_never_written(tmp_path, kind, db_is_a_link):
    real = _seeded(tmp_path / "data" / "state.json")
    victim = _victim(tmp_path / "data")
    lock = real.with_name("state.json.lock")  # beside the real file, wherever the link is
    if kind == "symlink":
        lock.symlink_to(victim)
    else:
        os.link(victim, lock)
    db = tmp_path / "link.json" if db_is_a_link else real
    if db_is_a_link:
        db.symlink_to(real)
    before = real.read_bytes()
    one_line_exit_2(run_cli("--db", str(db)), "state.json.lock", "link")
    assert victim.read_text() == "precious data\n" and real.read_bytes() == before


def test_a_planted_temporary_file_link_is_never_written_through(tmp_path):
    db = _seeded(tmp_path / "data" / "state.json")
    victim = _victim(tmp_path)
    with CLIServer("--db", str(db)) as server:
        db.with_name(f".state.json.{server.pid}.tmp").symlink_to(victim)  # the name a write's temporary file takes
        answer = _add_member(server.url, "after-plant@example.com")
        assert answer.status_code == 200, answer.text
        assert victim.read_text() == "precious data\n"
        assert not db.is_symlink() and "after-plant@example.com" in _members_in(db)
        server.kill()  # SIGKILL
    with CLIServer("--db", str(db)) as again:
        assert any(m["email"] == "after-plant@example.com" for m in get_state(again.url)["members"])


@pytest.mark.parametrize("kind", ["symlink", "hard link"])
def test_a_planted_write_ahead_log_link_is_never_written_through(tmp_path, kind):
    db = tmp_path / "state.json"
    victim = _victim(tmp_path)
    with CLIServer("--db", str(db), "--fixtures", str(big_fixture(tmp_path))) as server:
        wal = tmp_path / "state.json.wal"
        assert not wal.exists()
        if kind == "symlink":
            wal.symlink_to(victim)
        else:
            os.link(victim, wal)
        answer = _add_member(server.url, "logged@example.com")
        assert answer.status_code == 200, answer.text
        assert victim.read_text() == "precious data\n"
        assert not wal.is_symlink() and b"logged@example.com" in wal.read_bytes()
        server.kill()  # SIGKILL
    with CLIServer("--db", str(db)) as again:
        assert any(m["email"] == "logged@example.com" for m in get_state(again.url)["members"])


def test_a_write_ahead_log_that_is_a_link_at_start_is_refused(tmp_path):
    db = _seeded(tmp_path / "state.json")
    victim = _victim(tmp_path)
    (tmp_path / "state.json.wal").symlink_to(victim)
    before = db.read_bytes()
    one_line_exit_2(run_cli("--db", str(db)), "state.json.wal", "link")
    assert victim.read_text() == "precious data\n" and db.read_bytes() == before


# --- a restart on a full disk -----------------------------------------------------------------------

@pytest.fixture
def small_disk():
    """A 2 MiB tmpfs, a disk that really fills up (root on Linux; skipped where mounting is refused)."""
    if sys.platform != "linux" or os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("filling a real disk needs a tmpfs mount: root on Linux")
    folder = Path(tempfile.mkdtemp(prefix="emma-mock-disk-"))
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(folder)],
                             capture_output=True, timeout=30)
    if mounted.returncode != 0:
        folder.rmdir()
        pytest.skip(f"mounting a tmpfs was refused: {mounted.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        unmounted = subprocess.run(["umount", str(folder)], capture_output=True, timeout=30)
        if unmounted.returncode != 0:  # still busy: detach it now, the kernel frees it when let go
            subprocess.run(["umount", "-l", str(folder)], capture_output=True, timeout=30)
        folder.rmdir()


def _fill(folder: Path, leave: int) -> None:
    """Take all the free space of `folder`'s disk but `leave` bytes."""
    status = os.statvfs(folder)
    size = status.f_bavail * status.f_frsize - leave
    with open(folder / "filler", "wb") as handle:
        handle.write(b"\0" * size)


@pytest.mark.parametrize("leave", [0, 16 * 1024], ids=["no room at all", "room for the lock only"])
def test_a_restart_on_a_full_disk_is_one_line_and_exit_2_and_loses_nothing(small_disk, tmp_path, leave):
    db = small_disk / "state.json"
    fixtures = big_fixture(tmp_path)  # past REWRITE_LIMIT: the write goes to the write-ahead log
    app = open_app(db, fixtures=fixtures)
    client = app.test_client()
    assert client.post("/100/members/add", json={"email": "acknowledged@example.com"}).status_code == 200
    state = client.get("/__admin/state").json
    kill(app)
    _open.remove(app)
    _fill(small_disk, leave)
    files = {p.name: p.read_bytes() for p in small_disk.iterdir() if p.name != "filler"}
    assert sorted(files) == ["state.json", "state.json.wal"]
    one_line_exit_2(run_cli("--db", str(db), "--fixtures", str(fixtures)), str(db), "No space left")
    with pytest.raises(InvalidFixture, match="No space left"):
        open_app(db, fixtures=fixtures)  # in-process too, and it lets the file go
    assert {p.name: p.read_bytes() for p in small_disk.iterdir() if p.name != "filler"} == files
    (small_disk / "filler").unlink()  # room again: the acknowledged write is there
    again = open_app(db, fixtures=fixtures)
    assert again.test_client().get("/__admin/state").json == state
    kill(_open.pop())  # before the disk is unmounted


@pytest.mark.parametrize("what", ["db", "write-ahead log"])
def test_a_fifo_in_place_of_the_database_or_its_log_is_one_line_not_a_hang(tmp_path, what):
    db = _seeded(tmp_path / "state.json") if what == "write-ahead log" else tmp_path / "state.json"
    os.mkfifo(tmp_path / ("state.json.wal" if what == "write-ahead log" else "state.json"))
    one_line_exit_2(run_cli("--db", str(db), timeout=20), "state.json")
