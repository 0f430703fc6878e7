"""Security: account isolation, credentials kept out of the journal and the logs, loopback by default,
the admin token, fixtures never written, the journal bounded.
"""
from __future__ import annotations

import base64
import hmac
import json
import shutil
from pathlib import Path

import pytest
import requests

from mockserver import Config, create_app
from mockserver.testing import MockServer
from mockserver.wire import mock_of

from helpers import DEFAULT_FIXTURE, DEMO_AUTH, OTHER_AUTH, CLIServer, assert_json_answer, basic, run_cli


def state_of(app) -> dict:
    return mock_of(app).store.export()


# Every endpoint of account 100, with a body that would succeed for 100's own keys.
ENDPOINTS_100 = [
    ("GET", "/100/touchpoints", None), ("GET", "/100/touchpoints?count=true", None),
    ("POST", "/100/touchpoints", {"type_name": "intruder", "display_name": "Intruder"}),
    ("GET", "/100/touchpoints/300", None),
    ("PUT", "/100/touchpoints/300", {"type_name": "renamed", "display_name": "Renamed"}),
    ("DELETE", "/100/touchpoints/300", None),
    ("POST", "/100/touchpoints/members", {"touchpoints": [{"member_id": 444, "touchpoint_type_id": 300}]}),
    ("GET", "/100/touchpoints/members/444", None), ("GET", "/100/touchpoints/members/444?count=1", None),
    ("GET", "/100/touchpoints/members/touchpoints/1", None),
    ("DELETE", "/100/touchpoints/members/touchpoints/1", None),
    ("POST", "/100/members/add", {"email": "ann.smith@example.com", "fields": {"hacked": True}}),
    ("POST", "/100/members/add", {"email": "new.intruder@example.com"}),
    ("GET", "/100/members", None), ("GET", "/100/members/444", None),
    ("GET", "/100/members/email/ann.smith@example.com", None), ("DELETE", "/100/members/444", None),
    ("PATCH", "/100/touchpoints", None), ("GET", "/100/no/such/endpoint", None),
    ("GET", "/100/touchpoints/999999", None),
]
SECRETS_OF_100 = ["ann.smith", "bob.jones", "visited_website", "Visited Website", "purchased_tickets", "Winter Gala",
                  "demo-private-key"]
SECRETS_OF_101 = ["carol", "opened_app", "Opened App", "ios", "other-private-key"]


def _as_other_account(path: str) -> str:
    return "/101" + path[4:] if path.startswith("/100") else path


@pytest.mark.parametrize("method, path, body", ENDPOINTS_100, ids=[f"{m} {p}" for m, p, _ in ENDPOINTS_100])
def test_another_accounts_keys_get_403_and_change_nothing(method, path, body):
    app = create_app(Config())
    client = app.test_client()
    before = state_of(app)
    response = client.open(path, method=method, json=body, headers=basic(*OTHER_AUTH))
    assert response.status_code == 403, response.get_data()
    payload = assert_json_answer(403, response.content_type, response.get_data(), path)
    assert set(payload) == {"error"}
    assert not any(secret in response.get_data(as_text=True) for secret in SECRETS_OF_100)
    assert state_of(app) == before
    # and the other way round: 100's keys on 101's paths
    response = client.open(_as_other_account(path), method=method, json=body, headers=basic(*DEMO_AUTH))
    assert response.status_code == 403, response.get_data()
    assert not any(secret in response.get_data(as_text=True) for secret in SECRETS_OF_101)
    assert state_of(app) == before


# Account 101's objects asked for under account 100, with 100's own keys: like ids that do not exist.
FOREIGN = [  # (method, path with {id}, body, 101's id, an id nobody has)
    ("GET", "/100/touchpoints/{}", None, 400, 999_999),
    ("PUT", "/100/touchpoints/{}", {"type_name": "stolen", "display_name": "Stolen"}, 400, 999_999),
    ("DELETE", "/100/touchpoints/{}", None, 400, 999_999),
    ("GET", "/100/touchpoints/members/{}", None, 666, 999_999),
    ("GET", "/100/touchpoints/members/{}?count=true", None, 666, 999_999),
    ("GET", "/100/touchpoints/members/touchpoints/{}", None, 4, 999_999),
    ("DELETE", "/100/touchpoints/members/touchpoints/{}", None, 4, 999_999),
    ("GET", "/100/members/{}", None, 666, 999_999),
    ("DELETE", "/100/members/{}", None, 666, 999_999),
    ("GET", "/100/members/email/{}", None, "carol.white@example.org", "nobody.at.all@example.org"),
    ("GET", "/100/members/email/{}", None, "CAROL.WHITE@EXAMPLE.ORG", "NOBODY.AT.ALL@EXAMPLE.ORG"),
]


@pytest.mark.parametrize("method, template, body, foreign, absent", FOREIGN,
                         ids=[f"{m} {t}" for m, t, *_ in FOREIGN])
def test_another_accounts_ids_are_404_exactly_like_missing_ones(method, template, body, foreign, absent):
    app = create_app(Config())
    client = app.test_client()
    before = state_of(app)
    theirs = client.open(template.format(foreign), method=method, json=body, headers=basic(*DEMO_AUTH))
    nobodys = client.open(template.format(absent), method=method, json=body, headers=basic(*DEMO_AUTH))
    assert theirs.status_code == nobodys.status_code == 404
    assert_json_answer(404, theirs.content_type, theirs.get_data(), template)
    # the same answer as for an id that does not exist: existence does not leak
    assert theirs.json["error"].replace(str(foreign), "ID") == nobodys.json["error"].replace(str(absent), "ID")
    assert set(theirs.headers.keys()) == set(nobodys.headers.keys())
    text = theirs.get_data(as_text=True).lower().replace(str(foreign).lower(), "")
    assert not any(secret.lower() in text for secret in SECRETS_OF_101)
    assert state_of(app) == before


@pytest.mark.parametrize("item", [
    {"member_id": 666, "touchpoint_type_id": 300}, {"email": "carol.white@example.org", "touchpoint_type_id": 300},
    {"member_id": 444, "touchpoint_type_id": 400}, {"member_id": 444, "type_name": "opened_app"},
])
def test_touchpoints_cannot_reference_another_accounts_member_or_type(item):
    app = create_app(Config())
    client = app.test_client()
    before = state_of(app)
    response = client.post("/100/touchpoints/members", json={"touchpoints": [item]}, headers=basic(*DEMO_AUTH))
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    sent = json.dumps(item)
    assert not any(secret in text and secret not in sent for secret in [*SECRETS_OF_101, "666", "400"])
    assert state_of(app) == before


def test_lists_hold_only_the_accounts_own_records():
    client = create_app(Config()).test_client()
    headers = basic(*DEMO_AUTH)
    for path in ("/100/touchpoints", "/100/members", "/100/touchpoints/members/444", "/100/touchpoints/members/555"):
        records = client.get(path, headers=headers).json
        assert records and all(record["account_id"] == 100 for record in records), path
    assert client.get("/100/touchpoints?count=true", headers=headers).json == 2
    assert client.get("/100/members?count=true", headers=headers).json == 2


def test_the_same_email_in_two_accounts_is_two_members():
    app = create_app(Config())
    client = app.test_client()
    response = client.post("/100/members/add", json={"email": "carol.white@example.org", "fields": {"x": 1}},
                           headers=basic(*DEMO_AUTH))
    assert response.json["added"] is True and response.json["member_id"] != 666
    carol = client.get("/101/members/666", headers=basic(*OTHER_AUTH)).json
    assert carol["fields"] == {"first_name": "Carol"}  # 101's member untouched


def test_credentials_are_compared_in_constant_time(monkeypatch):
    """Every check of an API private key or of the admin token goes through hmac.compare_digest."""
    calls = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    app = create_app(Config(admin_token="admin-secret"))
    client = app.test_client()
    for keys, expected in ((DEMO_AUTH, 200), (("demo-public-key", "wrong"), 401), (("unknown", "demo-private-key"), 401),
                           (("demo-public-key", "demo-private-kez"), 401)):
        calls.clear()
        assert client.get("/100/touchpoints", headers=basic(*keys)).status_code == expected
        assert calls, f"no constant-time comparison for {keys}"
    for token, expected in (("admin-secret", 200), ("admin-secreu", 401), ("", 401)):
        calls.clear()
        assert client.get("/__admin/state", headers={"X-Admin-Token": token}).status_code == expected
        assert calls, f"no constant-time comparison for token {token!r}"


# --- credentials stay out of the journal and the logs -----------------------------------------------

PROBE_PUBLIC = "probe-public-8f3a1c"
PROBE_PRIVATE = "probe-private-5d29be"


def _credential_traffic(url: str) -> None:
    """Requests that carry credentials in every way a client might, good and bad."""
    targets = ["/100/touchpoints", "/100/touchpoints/999999", "/100/nope", "/101/members", "/100/touchpoints/members"]
    for keys in (DEMO_AUTH, OTHER_AUTH, (PROBE_PUBLIC, PROBE_PRIVATE), ("demo-public-key", PROBE_PRIVATE)):
        for path in targets:
            requests.get(url + path, auth=keys, timeout=10)
            requests.post(url + path, auth=keys, data=b"{not json", timeout=10)
            requests.post(url + path, auth=keys, data=b"x" * (10 * 1024 * 1024 + 1), timeout=30)
        requests.get(url.replace("http://", f"http://{keys[0]}:{keys[1]}@") + "/100/members", timeout=10)
    requests.get(url + "/100/touchpoints", timeout=10, headers={
        "Authorization": "Basic " + base64.b64encode(f"{PROBE_PUBLIC}:{PROBE_PRIVATE}".encode()).decode() + "==junk",
        "Proxy-Authorization": f"Basic {PROBE_PRIVATE}", "Cookie": f"session={PROBE_PRIVATE}",
        "X-Admin-Token": PROBE_PRIVATE})
    requests.patch(url + "/100/touchpoints", auth=(PROBE_PUBLIC, PROBE_PRIVATE), timeout=10)


def _secrets() -> list[str]:
    values = [PROBE_PUBLIC, PROBE_PRIVATE, "demo-private-key", "other-private-key"]
    for user, password in (DEMO_AUTH, OTHER_AUTH, (PROBE_PUBLIC, PROBE_PRIVATE)):
        values.append(base64.b64encode(f"{user}:{password}".encode()).decode())
    return values


def test_credentials_never_appear_in_the_journal():
    with MockServer(port=0) as server:
        _credential_traffic(server.url)
        journal = requests.get(server.url + "/__admin/requests", timeout=10)
        assert journal.status_code == 200
        text = journal.text
        entries = journal.json()
    assert len(entries) > 40
    leaked = [secret for secret in [*_secrets(), "demo-public-key", "other-public-key"] if secret in text]
    assert not leaked, f"credentials in the journal: {leaked}"
    masked = [entry for entry in entries if "Authorization" in entry.get("headers", {})]
    assert masked and all(entry["headers"]["Authorization"] == "***" for entry in masked)


def test_credentials_never_appear_in_the_servers_output(tmp_path):
    server = CLIServer("--db", str(tmp_path / "state.json"), env={"MOCKSERVER_ADMIN_TOKEN": "admin-token-77e1"})
    try:
        _credential_traffic(server.url)
        requests.get(server.url + "/__admin/state", headers={"X-Admin-Token": PROBE_PRIVATE}, timeout=10)
        assert requests.get(server.url + "/__admin/state", headers={"X-Admin-Token": "admin-token-77e1"},
                            timeout=10).status_code == 200
    finally:
        out, err = server.stop()
    banner, _, after = out.partition("control:")
    after = after.split("\n", 1)[1] if "\n" in after else ""
    # the banner shows the demo accounts' keys; nothing after it, and never a request's credentials
    for secret in [*_secrets(), "admin-token-77e1"]:
        assert secret not in after, f"{secret!r} printed after the banner"
        assert secret not in err, f"{secret!r} on stderr"
    for secret in (PROBE_PUBLIC, PROBE_PRIVATE, "admin-token-77e1"):
        assert secret not in banner


# --- where it listens ----------------------------------------------------------------------------

def _listening_addresses(port: int) -> list[str]:
    """Local addresses of sockets listening on `port`, from /proc/net/tcp and tcp6 (state 0A = LISTEN)."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not Path(table).exists():
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, hex_port = fields[1].rsplit(":", 1)
            if fields[3] == "0A" and int(hex_port, 16) == port:
                found.append(address)
    return found


@pytest.fixture(scope="module")
def quiet_cli():
    """One CLI server for the tests that only send it unauthenticated reads."""
    with CLIServer("--quiet") as server:
        yield server


def test_the_cli_binds_loopback_by_default(quiet_cli):
    assert quiet_cli.url.startswith("http://127.0.0.1:")
    port = int(quiet_cli.url.rsplit(":", 1)[1])
    assert _listening_addresses(port) == ["0100007F"]  # 127.0.0.1, and nothing else
    assert requests.get(quiet_cli.url + "/__admin/health", timeout=10).json() == {"status": "ok"}


def test_mockserver_and_config_default_to_loopback():
    assert Config().host == "127.0.0.1"
    with MockServer(port=0) as server:
        port = int(server.url.rsplit(":", 1)[1])
        assert server.url.startswith("http://127.0.0.1:")
        assert _listening_addresses(port) == ["0100007F"]


# --- the admin token ---------------------------------------------------------------------------------

ADMIN_CALLS = [("GET", "state", None), ("PUT", "state", "STATE"), ("POST", "reset", None), ("GET", "requests", None),
               ("DELETE", "requests", None), ("GET", "faults", None), ("POST", "faults", {"status": 503}),
               ("DELETE", "faults", None), ("DELETE", "faults/1", None), ("GET", "clock", None),
               ("PUT", "clock", {"now": "2030-01-01T00:00:00Z"}), ("DELETE", "clock", None),
               ("GET", "rate-limit", None), ("PUT", "rate-limit", {"requests": 1, "per_seconds": 60}),
               ("DELETE", "rate-limit", None)]


def test_with_an_admin_token_the_control_api_needs_it_and_health_stays_open():
    token = "t0ken-with-entropy-3b9f"
    with MockServer(port=0, admin_token=token) as server:
        url = server.url + "/__admin/"
        requests.post(server.url + "/100/touchpoints", auth=DEMO_AUTH,
                      json={"type_name": "kept", "display_name": "Kept"}, timeout=10)
        state = requests.get(url + "state", headers={"X-Admin-Token": token}, timeout=10).json()
        for headers in ({}, {"X-Admin-Token": "wrong"}, {"X-Admin-Token": token[:-1]},
                        {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {token}"},
                        {"Authorization": "Basic " + base64.b64encode(f"{token}:{token}".encode()).decode()},
                        {"X-Admin-Token": token.upper()}):
            for method, path, body in ADMIN_CALLS:
                response = requests.request(method, url + path, headers=headers, timeout=10,
                                            json=state if body == "STATE" else body)
                assert response.status_code == 401, (method, path, headers, response.status_code)
                assert_json_answer(401, response.headers.get("Content-Type"), response.content, path)
                assert token not in response.text
        # nothing above had any effect
        after = requests.get(url + "state", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert after.status_code == 200 and after.json() == state
        assert requests.get(url + "faults", headers={"X-Admin-Token": token}, timeout=10).json() == []
        assert requests.get(server.url + "/100/touchpoints", auth=DEMO_AUTH, timeout=10).status_code == 200
        # health needs nothing
        assert requests.get(url + "health", timeout=10).json() == {"status": "ok"}
        # and the token works both ways
        assert requests.post(url + "reset", headers={"X-Admin-Token": token}, timeout=10).status_code == 200
        assert requests.post(url + "reset", headers={"Authorization": f"Bearer {token}"}, timeout=10).status_code \
            == 200


def test_the_admin_token_from_the_environment_guards_the_cli():
    with CLIServer(env={"MOCKSERVER_ADMIN_TOKEN": "env-token-19c4"}) as server:
        assert requests.get(server.url + "/__admin/state", timeout=10).status_code == 401
        assert requests.post(server.url + "/__admin/reset", timeout=10).status_code == 401
        assert requests.get(server.url + "/__admin/state", headers={"X-Admin-Token": "env-token-19c4"},
                            timeout=10).status_code == 200
        assert requests.get(server.url + "/__admin/health", timeout=10).status_code == 200


def test_without_a_token_the_control_api_is_open():
    with MockServer(port=0) as server:
        response = requests.get(server.url + "/__admin/state", timeout=10)
        assert response.status_code == 200 and response.json() == server.state()
        assert [a["account_id"] for a in response.json()["accounts"]] == [100, 101]


# --- fixtures are only read ----------------------------------------------------------------------------

def _snapshot(folder: Path) -> dict[str, tuple[bytes, int, int]]:
    return {path.name: (path.read_bytes(), path.stat().st_mtime_ns, path.stat().st_mode)
            for path in sorted(folder.iterdir())}


def _exercise(url: str) -> None:
    session = requests.Session()
    session.auth = DEMO_AUTH
    with session:
        assert session.post(url + "/100/touchpoints", json={"type_name": "w", "display_name": "W"}).status_code == 200
        assert session.post(url + "/100/touchpoints/members", json={"touchpoints": [
            {"member_id": 444, "touchpoint_type_id": 300}]}).status_code == 200
        assert session.post(url + "/100/members/add", json={"email": "write@example.com"}).status_code == 200
        assert session.delete(url + "/100/touchpoints/300").status_code == 200
        assert session.delete(url + "/100/members/555").status_code == 200
        state = requests.get(url + "/__admin/state", timeout=10).json()
        assert requests.post(url + "/__admin/reset", timeout=10).status_code == 200
        state["touchpoints"] = []
        assert requests.put(url + "/__admin/state", json=state, timeout=10).status_code == 200
        assert requests.post(url + "/__admin/reset", timeout=10).status_code == 200
        assert session.put(url + "/100/touchpoints/300", json={"type_name": "x", "display_name": "X"}).status_code \
            == 200


@pytest.mark.parametrize("with_db", [False, True], ids=["memory", "db"])
@pytest.mark.parametrize("as_folder", [False, True], ids=["file", "folder"])
def test_fixture_files_are_never_written(tmp_path, with_db, as_folder):
    fixtures = tmp_path / "fixtures"
    fixtures.mkdir()
    shutil.copy(DEFAULT_FIXTURE, fixtures / "default.json")
    (fixtures / "default.json").chmod(0o444)
    before = _snapshot(fixtures)
    db = tmp_path / "data" / "state.json" if with_db else None
    if db:
        db.parent.mkdir()
    target = fixtures if as_folder else fixtures / "default.json"
    with MockServer(port=0, fixtures=target, db=db) as server:
        _exercise(server.url)
    if db:  # once more on the existing file, then through the CLI
        with MockServer(port=0, fixtures=target, db=db) as server:
            _exercise(server.url)
    with CLIServer("--fixtures", str(target), *(("--db", str(db)) if db else ())) as server:
        _exercise(server.url)
    assert _snapshot(fixtures) == before, "a fixture file (or its folder) was changed"
    if db:
        assert db.exists()


# --- the journal is bounded --------------------------------------------------------------------------

def test_the_journal_keeps_only_the_last_journal_size_requests():
    with MockServer(port=0, journal_size=50) as server:
        session = requests.Session()
        session.auth = DEMO_AUTH
        with session:
            for n in range(200):
                session.get(server.url + "/100/touchpoints", params={"n": n})
        entries = server.requests()
    assert len(entries) == 50
    assert [int(entry["query"]["n"]) for entry in entries] == list(range(150, 200))  # oldest dropped


def test_the_default_journal_holds_1000():
    app = create_app(Config())
    client = app.test_client()
    for n in range(1100):
        client.get(f"/100/touchpoints?n={n}", headers=basic(*DEMO_AUTH))
    entries = client.get("/__admin/requests").json
    assert len(entries) == 1000 and entries[0]["query"]["n"] == "100"


def test_a_journal_entry_stays_small_whatever_the_body():
    app = create_app(Config())
    client = app.test_client()
    big = json.dumps({"type_name": "big", "display_name": "x" * (5 * 1024 * 1024)})
    client.post("/100/touchpoints", data=big, headers=basic(*DEMO_AUTH))
    client.post("/100/touchpoints", data=b"y" * (10 * 1024 * 1024 + 1), headers=basic(*DEMO_AUTH))
    client.get("/100/touchpoints?" + "q=" + "z" * 8_000, headers=basic(*DEMO_AUTH))  # (past 8 KiB: a 414)
    entries = client.get("/__admin/requests").json
    assert len(entries) == 3
    for entry in entries[:2]:
        assert len(json.dumps(entry)) < 100_000, entry["body"][:100] if isinstance(entry["body"], str) else entry


def test_nothing_is_written_outside_the_db_file(tmp_path):
    """With --db, the only files the server creates are the db file (and its temporary sibling, removed)."""
    folder = tmp_path / "data"
    folder.mkdir()
    with CLIServer("--db", str(folder / "state.json")) as server:
        _exercise(server.url)
    assert sorted(p.name for p in folder.iterdir()) == ["state.json"]


LEADING_SLASH_PATHS = ["//100/touchpoints", "///100/members", "/%2F100/touchpoints", "//100/touchpoints/300"]


@pytest.mark.parametrize("path", LEADING_SLASH_PATHS)
def test_leading_slashes_do_not_skip_authentication_on_the_cli(quiet_cli, path):
    """werkzeug routes `//100/x` as `/100/x`: every layer must read it so, on the CLI's server too."""
    import http.client

    host, port = quiet_cli.url.removeprefix("http://").rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.request("GET", path)
    answer = conn.getresponse()
    body = answer.read()
    conn.close()
    assert answer.status in (401, 404), (path, answer.status, body[:200])
    assert b"demo-public-key" not in body and b"touchpoint" not in body.lower().replace(b"touchpoints", b"")


@pytest.mark.parametrize("path", ["//100/touchpoints", "///100/members", "//100/touchpoints/300/"])
def test_every_layer_reads_leading_slashes_as_routing_does(path):
    app = create_app(Config(admin_token="s3cret"))
    client = app.test_client()
    assert client.get("/x", environ_overrides={"PATH_INFO": path}).status_code == 401
    assert client.get("/x", environ_overrides={"PATH_INFO": path},
                      auth=DEMO_AUTH).status_code == 200
    assert client.get("/x", environ_overrides={"PATH_INFO": "//__admin/state"}).status_code == 401  # admin token
    # the journal and faults see the path routing saw
    mock = mock_of(app)
    assert mock.journal.entries()[-1]["path"] == "/" + path.strip("/")


UNSENDABLE_TOKENS = ["café", "tab\there", "\u202etoken", "snow☃"]


@pytest.mark.parametrize(("token", "given"), [
    # each token one way, both ways covered, in the normal run; every token both ways with -m slow
    pytest.param(token, given, id=f"{token!r}-{given}",
                 marks=() if (n % 2 == 0) == (given == "option") else pytest.mark.slow)
    for n, token in enumerate(UNSENDABLE_TOKENS) for given in ("option", "env")])
def test_an_admin_token_no_client_could_send_is_refused_at_start(token, given):
    """curl sends a header's non-ASCII as UTF-8, requests as Latin-1: such a token would lock every client out."""
    result = run_cli("--admin-token", token) if given == "option" else run_cli(env={"MOCKSERVER_ADMIN_TOKEN": token})
    stderr = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 2, stderr
    assert "printable ASCII" in stderr and len(stderr.strip().splitlines()) <= 2


@pytest.mark.parametrize("token", UNSENDABLE_TOKENS)
def test_an_admin_token_no_client_could_send_is_refused_by_the_fixture(token):
    with pytest.raises(ValueError, match="printable ASCII"):
        MockServer(admin_token=token)
