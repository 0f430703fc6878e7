"""`--db FILE`: the state survives restarts, writes are atomic, bad files are left alone."""
import itertools
import json

import pytest

from mockserver import Config, create_app
from mockserver.core.errors import InvalidFixture
from mockserver.core.filestore import AtomicJSONStorage
from mockserver.wire import mock_of

from helpers import big_fixture

_open: dict[str, object] = {}  # the app serving each file: one server per file


def open_app(db, **kwargs):
    """An app on `db`; one still open on the same file is first let go as a kill would (no fold-in)."""
    previous = _open.pop(str(db), None)
    if previous is not None:
        previous.extensions["emma_mock"].database.release()
    app = create_app(Config(db=db, auth=False, **kwargs))
    _open[str(db)] = app
    return app


def open_client(db, **kwargs):
    return open_app(db, **kwargs).test_client()


@pytest.fixture(autouse=True)
def _release_files():
    yield
    while _open:
        _open.popitem()[1].extensions["emma_mock"].database.release()


def test_a_new_file_is_seeded_from_the_fixtures(tmp_path):
    db = tmp_path / "state.json"
    client = open_client(db)
    assert db.exists()
    tables = json.loads(db.read_text())
    assert set(tables) >= {"accounts", "members", "touchpoint_types", "touchpoints"}
    assert tables["touchpoint_types"]["300"]["type_name"] == "visited_website"
    assert client.get("/100/touchpoints").status_code == 200


def test_a_restart_continues_from_the_file(tmp_path):
    db = tmp_path / "state.json"
    client = open_client(db)
    created = client.post("/100/touchpoints", json={"type_name": "kept", "display_name": "Kept"}).json
    client.put("/100/touchpoints/200", json={"type_name": "renamed", "display_name": "Renamed"})
    client.delete("/100/touchpoints/members/touchpoints/1")
    tp = client.post("/100/touchpoints/members", json={"touchpoints": [{"member_id": 444, "type_name": "kept"}]}).json[0]
    client.delete(f"/100/touchpoints/members/touchpoints/{tp['touchpoint_id']}")
    state = client.get("/__admin/state").json

    restarted = open_client(db)
    assert restarted.get("/__admin/state").json == state
    assert restarted.get(f"/100/touchpoints/{created['touchpoint_type_id']}").json == created
    # the deleted touchpoint's id is not handed out again after the restart
    again = restarted.post("/100/touchpoints/members", json={"touchpoints": [{"member_id": 444, "type_name": "kept"}]})
    assert again.json[0]["touchpoint_id"] == tp["touchpoint_id"] + 1


def test_every_answered_write_is_on_disk(tmp_path):
    db = tmp_path / "state.json"
    client = open_client(db)
    client.post("/100/members/add", json={"email": "disk@example.com"})
    on_disk = json.loads(db.read_text())
    assert any(m["email"] == "disk@example.com" for m in on_disk["members"].values())


def test_reset_goes_back_to_the_fixtures_and_rewrites_the_file(tmp_path):
    db = tmp_path / "state.json"
    client = open_client(db)
    client.delete("/100/touchpoints/300")
    assert "300" not in json.loads(db.read_text())["touchpoint_types"]
    client.post("/__admin/reset")
    assert "300" in json.loads(db.read_text())["touchpoint_types"]
    assert open_client(db).get("/100/touchpoints/300").status_code == 200


def test_state_upload_is_persisted(tmp_path):
    db = tmp_path / "state.json"
    client = open_client(db)
    state = client.get("/__admin/state").json
    state["touchpoints"] = []
    assert client.put("/__admin/state", json=state).status_code == 200
    assert open_client(db).get("/__admin/state").json["touchpoints"] == []


@pytest.mark.parametrize("content", [b"", b"{\"touchpoints\": {\"1\": {", b"\x00\x01garbage", b"[1, 2, 3]",
                                     b'{"members": {"1": {"account_id": 100}}}', b'{"widgets": {}}'])
def test_a_file_that_does_not_load_is_reported_and_left_untouched(tmp_path, content):
    db = tmp_path / "state.json"
    db.write_bytes(content)
    with pytest.raises(InvalidFixture) as error:
        open_client(db)
    assert str(db) in str(error.value)
    assert db.read_bytes() == content


def test_writes_replace_the_file_atomically(tmp_path):
    path = tmp_path / "db.json"
    storage = AtomicJSONStorage(path)
    storage.write({"t": {"1": {"a": 1}}})
    inode = path.stat().st_ino
    storage.write({"t": {"1": {"a": 2}}})
    assert path.stat().st_ino != inode  # a new file was renamed over the old one
    assert json.loads(path.read_text()) == {"t": {"1": {"a": 2}}}
    assert [p.name for p in tmp_path.iterdir()] == ["db.json"]  # no temporary file left behind


def test_a_failed_write_changes_nothing(tmp_path, monkeypatch):
    db = tmp_path / "state.json"
    client = open_client(db)
    before = db.read_bytes()

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("mockserver.core.filestore.os.fsync", full_disk)
    response = client.post("/100/touchpoints", json={"type_name": "lost", "display_name": "Lost"})
    assert response.status_code == 503
    assert "No space left" in response.json["error"]
    monkeypatch.undo()
    assert db.read_bytes() == before
    assert all(t["type_name"] != "lost" for t in client.get("/100/touchpoints").json)
    assert client.post("/100/touchpoints", json={"type_name": "ok", "display_name": "Ok"}).status_code == 200


# --- the write-ahead log: large states append one line per write --------------------------------

def big_state(tmp_path, touchpoints=2000):
    return big_fixture(tmp_path, touchpoints)


def add(client, n=1):
    response = client.post("/100/touchpoints/members",
                           json={"touchpoints": [{"member_id": 1, "touchpoint_type_id": 1}] * n})
    assert response.status_code == 200
    return response.json


def test_a_large_state_logs_writes_ahead_and_a_restart_replays_them(tmp_path):
    db = tmp_path / "state.json"
    app = open_app(db, fixtures=big_state(tmp_path))
    client = app.test_client()
    checkpoint = db.read_bytes()
    created = add(client, 3)
    client.delete("/100/touchpoints/members/touchpoints/5")
    wal = tmp_path / "state.json.wal"
    assert db.read_bytes() == checkpoint  # the file was not rewritten for a small change
    assert len(wal.read_bytes().splitlines()) == 2
    state = client.get("/__admin/state").json

    restarted = open_client(db)  # as after a kill: the write-ahead log is replayed, then folded in
    assert restarted.get("/__admin/state").json == state
    assert not wal.exists()
    assert json.loads(db.read_text())["touchpoints"][str(created[0]["touchpoint_id"])]["member_id"] == 1
    assert add(restarted)[0]["touchpoint_id"] == created[-1]["touchpoint_id"] + 1


def test_a_torn_last_wal_line_was_never_answered_and_is_dropped(tmp_path):
    db = tmp_path / "state.json"
    client = open_app(db, fixtures=big_state(tmp_path)).test_client()
    kept = add(client)[0]["touchpoint_id"]
    wal = tmp_path / "state.json.wal"
    with open(wal, "ab") as handle:
        handle.write(b'{"puts": {"touchpoints": [{"account_id": 100, "touch')  # killed mid-write
    restarted = open_client(db)
    ids = {t["touchpoint_id"] for t in restarted.get("/__admin/state").json["touchpoints"]}
    assert kept in ids


def test_a_damaged_wal_line_refuses_to_start_and_leaves_both_files(tmp_path):
    db = tmp_path / "state.json"
    client = open_app(db, fixtures=big_state(tmp_path)).test_client()
    add(client)
    add(client)
    wal = tmp_path / "state.json.wal"
    lines = wal.read_bytes().splitlines(keepends=True)
    wal.write_bytes(b"garbage\n" + lines[1])
    before = (db.read_bytes(), wal.read_bytes())
    with pytest.raises(InvalidFixture, match=r"wal: line 1 is damaged"):
        open_client(db)
    assert (db.read_bytes(), wal.read_bytes()) == before


def test_the_wal_is_folded_in_when_it_grows_and_on_a_clean_stop(tmp_path, monkeypatch):
    from mockserver.core.filestore import TinyDBFile
    monkeypatch.setattr(TinyDBFile, "WAL_MIN", 4096)
    db = tmp_path / "state.json"
    app = open_app(db, fixtures=big_state(tmp_path))
    client = app.test_client()
    wal = tmp_path / "state.json.wal"
    sizes = []
    for _ in range(100):  # lines of ~2.5 KB: a quarter of the ~400 KB file is passed within ~45
        add(client, 10)
        sizes.append(wal.stat().st_size if wal.exists() else 0)
    assert any(later < earlier for earlier, later in itertools.pairwise(sizes))  # folded in on the way
    on_disk = json.loads(db.read_text())
    assert len(on_disk["touchpoints"]) > 2000
    add(client)
    mock_of(app).close()
    assert not wal.exists()
    assert len(json.loads(db.read_text())["touchpoints"]) == len(client.get("/__admin/state").json["touchpoints"])


def test_reset_folds_the_wal_away(tmp_path):
    db = tmp_path / "state.json"
    client = open_app(db, fixtures=big_state(tmp_path)).test_client()
    add(client)
    client.post("/__admin/reset")
    assert not (tmp_path / "state.json.wal").exists()
    assert len(json.loads(db.read_text())["touchpoints"]) == 2000


@pytest.mark.parametrize("content", ["{}", '{"_default": {}}'])
def test_a_fresh_tinydb_file_is_seeded_from_the_fixtures(tmp_path, content):
    db = tmp_path / "state.json"
    db.write_text(content)
    client = open_client(db)
    assert [t["touchpoint_type_id"] for t in client.get("/100/touchpoints").json] == [300, 200]
    assert "300" in json.loads(db.read_text())["touchpoint_types"]


def test_the_file_stays_tinydbs_own_format(tmp_path):
    """Any TinyDB program can open the file: one table per collection, document id = record id."""
    from tinydb import TinyDB

    db = tmp_path / "state.json"
    client = open_client(db)
    created = client.post("/100/touchpoints", json={"type_name": "read_back", "display_name": "R"}).get_json()
    with TinyDB(db) as tiny:
        assert dict(tiny.table("touchpoint_types").get(doc_id=created["touchpoint_type_id"])) == created
        assert {m["email"] for m in tiny.table("members").all()} >= {"ann.smith@example.com"}
