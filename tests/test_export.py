"""`GET /__admin/requests/export`: a session since the last reset as a pytest module that replays it.

The replays run as a user runs them: the exported file, pytest in a subprocess,
the plugin's `emma_mock` on a fresh mock. Random sessions mix every endpoint
with faults (seeded, unseeded, counted, delays, drops), clock moves, rate
limits, state loads and failed authentications; each module passes on the
fixtures it was recorded with and fails, naming a request, on others.
"""
from __future__ import annotations

import ast
import json
import random
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from mockserver import Config, MockServer, create_app
from mockserver.control.export import FILENAME
from mockserver.state.journal import BYTE_BUDGET
from mockserver.wire import mock_of

from helpers import ADMIN_TOKEN_REQUIRED, DEFAULT_FIXTURE, DEMO_AUTH, OTHER_AUTH, basic, hold_delays, replay

SESSIONS = 3  # random sessions per run, replayed by one pytest subprocess (each test on a freshly reset mock)
STEPS = 45  # requests and controls per session


def export(client: Any, until: int | None = None) -> str:
    response = client.get("/__admin/requests/export", query_string={"until": until} if until else {})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


# --- one clock reading per request -------------------------------------------------------------

class TickingClock:
    """Each reading a second after the last: two readings in one request cannot agree."""

    def __init__(self) -> None:
        self.moment = datetime(2030, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.moment += timedelta(seconds=1)
        return self.moment


def test_a_request_reads_the_clock_once_for_its_journal_time_and_every_date_it_makes(client):
    mock_of(client.application).clock.now = TickingClock()  # type: ignore[method-assign]
    made = [client.post("/100/touchpoints", json={"type_name": "t", "display_name": "T"}).json["created_at"]]
    client.post("/100/members/add", json={"email": "new@example.com"})
    made.append(client.get("/__admin/state").json["members"][-1]["member_since"])
    touchpoint = client.post("/100/touchpoints/members",
                             json={"touchpoints": [{"member_id": 444, "touchpoint_type_id": 300}]}).json[0]
    made += [touchpoint["inserted_at"], touchpoint["touchpoint_timestamp"]]
    journal = client.get("/__admin/requests", query_string={"method": "POST"}).json
    assert made == [journal[0]["time"], journal[1]["time"], journal[2]["time"], journal[2]["time"]]


# --- the endpoint ------------------------------------------------------------------------------

def test_the_export_is_a_python_file_to_download(client):
    client.get("/100/touchpoints")
    response = client.get("/__admin/requests/export")
    assert response.status_code == 200
    assert response.mimetype == "text/x-python"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{FILENAME}"'
    assert response.headers["X-Content-Type-Options"] == "nosniff"  # a download, never a page
    compile(response.get_data(as_text=True), FILENAME, "exec")


@pytest.mark.parametrize("until", ["x", "-1", "1.5", "١"])
def test_until_must_be_an_entry_id(client, until):
    response = client.get("/__admin/requests/export", query_string={"until": until})
    assert response.status_code == 400
    assert response.json == {"error": "'until' must be a journal entry id (a non-negative integer)"}


def test_until_names_the_entries_there_are(client):
    client.get("/100/touchpoints")
    response = client.get("/__admin/requests/export", query_string={"until": 7})
    assert response.status_code == 404
    assert response.json == {"error": "no journal entry 7 in the session since the last reset (the journal holds "
                                      "entries 1 to 1); 'until' takes the id of one of them"}


def test_until_stops_after_that_entry_and_before_the_controls_after_it(client):
    client.get("/100/touchpoints")
    client.post("/__admin/faults", json={"status": 500})
    client.get("/100/members")
    module = export(client, until=1)
    assert "# 1: GET /100/touchpoints" in module
    assert "add_fault" not in module and "/100/members" not in module
    assert "add_fault(status=500)" in export(client)


def test_the_export_needs_the_admin_token_when_one_is_set():
    client = create_app(Config(admin_token="secret")).test_client()
    refused = client.get("/__admin/requests/export")
    assert (refused.status_code, refused.json) == (401, ADMIN_TOKEN_REQUIRED)
    exported = client.get("/__admin/requests/export", headers={"X-Admin-Token": "secret"})
    assert exported.status_code == 200 and exported.content_type == "text/x-python; charset=utf-8"
    assert exported.get_data(as_text=True).startswith('"""A replay of an emma-mock session')


def test_the_session_starts_at_the_last_reset(client):
    client.post("/100/touchpoints", json={"type_name": "before", "display_name": "Before"})
    client.post("/__admin/faults", json={"status": 503})
    client.post("/__admin/reset")
    client.get("/100/members/444")
    module = export(client)
    assert "before" not in module and "add_fault" not in module
    assert "# 2: GET /100/members/444" in module and "Everything in the session is replayed." in module


def test_no_secret_in_the_module_only_whose_keys(app, client, other, anonymous):
    client.get("/100/touchpoints")
    other.get("/100/touchpoints")
    anonymous.get("/100/touchpoints", headers=basic("demo-public-key", "a-wrong-private-key"))
    anonymous.get("/100/touchpoints", headers={"Authorization": "Basic !!!"})
    module = export(client)
    for key in DEMO_AUTH + OTHER_AUTH + ("a-wrong-private-key",):
        assert key not in module
    calls = [line.strip() for line in module.splitlines() if "requests.get(" in line]
    assert calls == ['types = requests.get(f"{emma_mock.url}/100/touchpoints", auth=emma_mock.auth_for(100))',
                     'types = requests.get(f"{emma_mock.url}/100/touchpoints", auth=emma_mock.auth_for(101))',
                     'types = requests.get(f"{emma_mock.url}/100/touchpoints", auth=WRONG_KEYS)',
                     'types = requests.get(f"{emma_mock.url}/100/touchpoints")']
    shown = client.get("/__admin/requests").json[0]
    assert "credentials" not in shown and "arrived" not in shown  # the journal shows no field of the export's


def test_a_request_a_fault_answered_or_dropped_replays_with_the_keys_it_sent(client, other):
    """A fault answers before authentication; the replay still sends what the client sent (the fault
    answers it again), so the test reads as the session did and still means it with the fault removed."""
    client.post("/__admin/faults", json={"path": "/100/members", "status": 503, "times": 1})
    client.post("/__admin/faults", json={"path": "/100/touchpoints", "action": "drop", "times": 1})
    assert other.get("/100/members").status_code == 503
    assert client.get("/100/touchpoints").status_code == 502  # a drop, where the server cannot close
    calls = [line.strip() for line in export(client).splitlines() if "requests.get(" in line]
    assert calls == ['members = requests.get(f"{emma_mock.url}/100/members", auth=emma_mock.auth_for(101))',
                     'types = requests.get(f"{emma_mock.url}/100/touchpoints", auth=emma_mock.auth_for(100))']


def test_a_path_naming_pytest_adds_no_import_and_no_marker(client):
    """Whether the module imports pytest and marks its test xfail follows what it holds, never what a
    path says: a path naming `pytest.raises` or `xfail` is only escaped text in a comment."""
    client.get("/100/pytest.raises/xfail")
    module = export(client)
    assert "# 1: GET /100/pytest.raises/xfail" in module
    assert "import pytest" not in module and "@pytest" not in module
    compile(module, "test_emma_mock_session.py", "exec")


def test_a_fault_on_requests_that_overlapped_is_said_and_the_test_marked_xfail(app, client, tmp_path):
    """A client that timed out and retried: the first request, held by the fault's delay, is answered after
    the retry. The replay sends one request at a time, in the order they were answered, so the fault would
    act on the retry: the module says so and expects its test may fail."""
    held, release = hold_delays(app)
    client.post("/__admin/faults", json={"path": "/100/touchpoints/300", "status": 503, "delay_ms": 1500,
                                         "times": 1})
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(app.test_client().get, "/100/touchpoints/300", headers=basic(*DEMO_AUTH))
        assert held.wait(10)
        assert client.get("/100/touchpoints/300").status_code == 200  # the retry: the fault is spent
        release.set()
        assert first.result(timeout=10).status_code == 503
    module = export(client)
    assert ("Entry 2 came in before entry 1 but was answered after it, in a session with a rate limit or a fault "
            "that counts or draws" in docstring(module))
    assert "@pytest.mark.xfail(reason=" in module
    result = replay(tmp_path, {"test_overlap.py": module})
    assert result.returncode == 0 and "1 xfailed" in result.stdout, result.stdout


def test_an_unseeded_fault_is_exported_with_the_seed_its_draws_came_from(client):
    fault = client.post("/__admin/faults", json={"status": 503, "probability": 0.5}).json
    assert fault["seed"] is None  # its JSON shows what the client sent
    seed = mock_of(client.application).faults._faults[0].draw_seed
    assert f"emma_mock.add_fault(status=503, probability=0.5, seed={seed})" in export(client)


# --- what cannot be replayed is said at the top ------------------------------------------------

def docstring(module: str) -> str:
    return ast.get_docstring(ast.parse(module)) or ""


def said(module: str, note: str, marker: str) -> str:
    """The module, once its docstring lists `note` and its test carries `marker`."""
    assert f"- {note}" in docstring(module)
    assert marker in module
    return module


def test_a_cut_body_stops_the_replay_there_and_the_rest_is_a_skipped_test(client):
    client.get("/100/touchpoints")
    client.post("/100/touchpoints", data=b'{"type_name": "' + b"x" * 70_000 + b'"}')
    client.get("/100/members")
    reason = ("entry 2's body was cut by the journal's limits, so it cannot be sent again and the replay "
              "stops before it")
    module = said(export(client), f"The replay stops early: {reason}.",
                  f"@pytest.mark.skip(reason={reason!r})\ndef test_rest_of_session(emma_mock):")
    assert "# 1: GET /100/touchpoints" in module and "# 3:" not in module


def test_an_answer_over_the_limit_is_checked_by_its_status_and_said_so(client):
    for _ in range(6):
        client.post("/100/touchpoints/members", json={"touchpoints": [
            {"member_id": 444, "touchpoint_type_id": 300, "attributes": {"pad": "x" * 2000}}] * 10})
    client.get("/100/touchpoints/members/444")
    module = export(client)
    size = len(client.get("/100/touchpoints/members/444").data)
    assert f"- Entry 7's answer ({size} bytes) was over the journal's limit and not recorded: only its status " \
           "is checked." in docstring(module)
    assert module.rstrip().endswith("assert member_444_touchpoints.status_code == 200, '7: GET /100/touchpoints/members/444'")


def test_a_cleared_or_overflowing_journal_is_said_and_the_test_marked_xfail():
    client = create_app(Config(journal_size=2)).test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = basic(*DEMO_AUTH)["Authorization"]
    for _ in range(3):
        client.get("/100/touchpoints")
    note = ("Journal entry 1 of this session is no longer held (the journal was cleared, or dropped its "
            "oldest entries past its limit): the replay starts without them, so answers may differ")
    said(export(client), f"{note} (the test is marked xfail).",
         f"@pytest.mark.xfail(reason={note!r}, strict=False)\ndef test_session(emma_mock):")
    client.delete("/__admin/requests")
    assert "Journal entries 1 to 3 of this session are no longer held" in export(client)


@pytest.mark.parametrize("journal_size", [3, 1000])
def test_controls_are_bounded_like_the_journal_and_what_they_dropped_is_said(journal_size):
    client = create_app(Config(journal_size=journal_size)).test_client()
    big = {"status": 500, "path": "/never", "body": "x" * 60_000}
    for _ in range(200):  # 400 controls, 12 MB of fault bodies: over the journal's 8 MiB
        client.post("/__admin/faults", json=big)
        client.delete("/__admin/faults")
    session = mock_of(client.application).session
    assert len(session.controls) <= journal_size and sum(c.size for c in session.controls) <= BYTE_BUDGET
    assert session.dropped == 400 - len(session.controls) > 0
    said(export(client), f"{session.dropped} early controls of this session were dropped past the session's "
                         "limit: the replay starts without them (the test is marked xfail).", "@pytest.mark.xfail(")


def test_other_fixtures_are_named_with_the_option_that_serves_them(tmp_path):
    odd = tmp_path / 'we"""ird\nname.json'
    odd.write_text(DEFAULT_FIXTURE.read_text())
    client = create_app(Config(fixtures=odd)).test_client()
    module = export(client)
    compile(module, FILENAME, "exec")
    shown = str(odd).replace("\n", "\\n").replace('"', '\\"')
    assert f"    pytest --emma-mock-fixtures={shown} {FILENAME}" in module
    assert f"--emma-mock-fixtures={odd}" in docstring(module)


def test_auth_off_is_said_and_each_request_sends_its_accounts_keys():
    client = create_app(Config(auth=False)).test_client()
    client.get("/100/touchpoints")
    module = export(client)
    assert "--auth off" in docstring(module)
    assert 'requests.get(f"{emma_mock.url}/100/touchpoints", auth=emma_mock.auth_for(100))' in module


def test_auth_off_and_an_account_not_in_the_state_replays_without_keys_and_is_marked_xfail():
    """`auth_for` would raise for an account the state lacks: those requests go without keys, and the test
    is expected to fail (the plugin's server checks keys: 401 where the session got 404; the next test runs
    such a module)."""
    client = create_app(Config(auth=False)).test_client()
    assert client.get("/999/touchpoints").json == {"error": "no account 999"}
    client.get("/999/members")
    client.get("/100/touchpoints")
    module = export(client)
    assert 'requests.get(f"{emma_mock.url}/999/touchpoints")' in module
    assert docstring(module).count("account 999 was not in its state") == 1
    assert "@pytest.mark.xfail(reason=" in module


def test_auth_off_decides_by_the_accounts_at_each_request_not_at_the_export(tmp_path):
    """An account loaded after a request to it: that request goes without keys (it was a 404), the later one
    with the account's keys; the replay's load makes the account before the later one is sent."""
    client = create_app(Config(auth=False)).test_client()
    assert client.get("/555/touchpoints").status_code == 404
    state = client.get("/__admin/state").json
    state["accounts"].append({"account_id": 555, "name": "Loaded", "public_key": "k555", "private_key": "p555"})
    assert client.put("/__admin/state", json=state).status_code == 200
    assert client.get("/555/touchpoints").status_code == 200
    module = export(client)
    calls = [line.strip() for line in module.splitlines() if "requests.get(" in line]
    assert calls == ['types = requests.get(f"{emma_mock.url}/555/touchpoints")',
                     'types = requests.get(f"{emma_mock.url}/555/touchpoints", auth=emma_mock.auth_for(555))']
    assert "account 555 was not in its state" in docstring(module)
    result = replay(tmp_path, {"test_loaded.py": module})
    assert result.returncode == 0 and "1 xfailed" in result.stdout, result.stdout


def test_a_session_begun_from_a_db_file_is_said(tmp_path):
    create_app(Config(db=tmp_path / "state.json")).extensions["emma_mock"].close()
    client = create_app(Config(db=tmp_path / "state.json")).test_client()
    assert "The session began from the server's --db file" in docstring(export(client))
    client.post("/__admin/reset")
    assert "Everything in the session is replayed." in export(client)


# --- whatever a client sent, the module is valid Python that only replays -----------------------

HOSTILE = ['"""', "'''", "\\", "\n", "\r", "\x00", "\u2028", "'); import os; os.system('x')  #",
           '"); __import__("os")  #', "{emma_mock}", "NaN", "é€😀", "\udcff"]


def only_replays(module: str) -> None:
    """Compiles, and every statement is one the export writes: no call but to emma_mock, requests, pytest."""
    tree = ast.parse(module)
    allowed_imports = {"json", "pytest", "requests"}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            assert isinstance(node, ast.Import) and {alias.name for alias in node.names} <= allowed_imports
        if isinstance(node, ast.Call):
            func = node.func
            assert isinstance(func, ast.Attribute), ast.dump(func)
            owner = func.value
            if isinstance(owner, ast.Attribute):  # pytest.mark.skip(...), emma_mock.url...
                owner = owner.value
            assert isinstance(owner, ast.Name), ast.dump(func)
            assert owner.id in {"emma_mock", "requests", "pytest", "json"} or func.attr == "json", ast.dump(func)
        assert not isinstance(node, (ast.Lambda, ast.Global, ast.Delete, ast.Try, ast.While, ast.For))
        if isinstance(node, ast.Name):
            assert node.id not in {"os", "__import__", "eval", "exec", "open", "sys", "subprocess"}


def test_hostile_input_gives_a_module_that_compiles_only_replays_and_passes(client, anonymous, tmp_path):
    for text in HOSTILE:
        escaped = "".join(f"%{byte:02X}" for byte in text.encode("utf-8", "surrogateescape"))
        client.get(f"/100/members/email/{escaped}")
        client.get(f"/{escaped}")
        client.get("/100/members", query_string=f"start={escaped}&{escaped}=1&raw={text.encode('utf-8', 'replace').hex()}")
        client.post("/100/touchpoints", data=json.dumps({"type_name": text, "display_name": text}))
        client.post("/100/touchpoints", data=text.encode("utf-8", "surrogateescape"))
        anonymous.get("/100/touchpoints", headers={"Authorization": "Basic " + text.encode("utf-8", "replace").hex()})
    client.open("/100/touchpoints", method="NaN")  # a method no route has
    client.post("/100/touchpoints", data=b"\xff\xfe\x00" + b'"""')
    client.post("/100/touchpoints", data=b'{"type_name": ' + b"[" * 300 + b"]" * 300 + b"}")
    client.post("/100/touchpoints", data=b'{"type_name": 1e308, "display_name": ' + b"9" * 4000 + b"}")
    client.post("/100/touchpoints", data=b'{"type_name": 1e400}')
    client.post("/__admin/faults", json={"path": "/100/never*", "status": 599,
                                         "body": {'"""': ["\x00", "'); import os"], "deep": [[[[["x"]]]]]}})
    module = export(client)
    only_replays(module)
    result = replay(tmp_path, {FILENAME: module})
    assert result.returncode == 0, result.stdout[-6000:]
    assert "1 passed" in result.stdout


# --- random sessions, replayed by pytest as a user runs it ------------------------------------

OTHER_STATE = {"accounts": [{"account_id": 100, "public_key": "loaded-public", "private_key": "loaded-private"},
                            {"account_id": 101, "public_key": "other-loaded", "private_key": "other-secret"}],
               "members": [{"account_id": 100, "member_id": 7, "email": "loaded@example.com"}],
               "touchpoint_types": [{"account_id": 100, "touchpoint_type_id": 70, "type_name": "loaded",
                                     "display_name": "Loaded"}]}


class Session:
    """Drives a live mock at random, over HTTP, through every endpoint and control."""

    def __init__(self, server: MockServer, rng: random.Random):
        self.server, self.rng = server, rng
        self.http = requests.Session()

    def keys(self) -> tuple[str, str] | None:
        """Mostly the path account's keys; now and then none, wrong ones or the other account's."""
        draw = self.rng.random()
        if draw < 0.08:
            return None
        if draw < 0.14:
            return ("demo-public-key", "wrong-private-key")
        if draw < 0.2:
            return self.server.auth_for(101)
        return self.server.auth

    def ids(self, collection: str, field: str) -> list[int]:
        return [record[field] for record in self.server.state()[collection]] + [99999]

    def api(self) -> None:
        rng, account = self.rng, self.server.account_id
        member = rng.choice(self.ids("members", "member_id"))
        type_id = rng.choice(self.ids("touchpoint_types", "touchpoint_type_id"))
        touchpoint = rng.choice(self.ids("touchpoints", "touchpoint_id"))
        name = rng.choice(["a", "b", "c", 'q"""\'', ""])
        item: dict[str, Any] = {"member_id": member, "touchpoint_type_id": type_id}
        if rng.random() < 0.5:
            item["touchpoint_timestamp"] = "2031-02-03T04:05:06+02:00"
        if rng.random() < 0.3:
            item["touchpoint_monetary_value"] = rng.choice([8, 1.5, "x", None])
        method, path, body = rng.choice([
            ("GET", "/touchpoints", None),
            ("POST", "/touchpoints", {"type_name": name, "display_name": name.upper() or "N"}),
            ("GET", f"/touchpoints/{type_id}", None),
            ("PUT", f"/touchpoints/{type_id}", {"type_name": name + "2", "display_name": "Renamed"}),
            ("DELETE", f"/touchpoints/{type_id}", None),
            ("POST", "/touchpoints/members", {"touchpoints": [item] * rng.randint(1, 3)}),
            ("GET", f"/touchpoints/members/{member}", None),
            ("GET", f"/touchpoints/members/touchpoints/{touchpoint}", None),
            ("DELETE", f"/touchpoints/members/touchpoints/{touchpoint}", None),
            ("POST", "/members/add", {"email": rng.choice(["x@example.com", "y@example.com", "bad"]),
                                      "fields": {"n": rng.randint(0, 9)}}),
            ("GET", "/members?start=1&end=3", None),
            ("GET", "/members?count=true", None),
            ("GET", f"/members/{member}", None),
            ("GET", "/members/email/ANN.SMITH@example.com", None),
            ("DELETE", f"/members/{member}", None),
            ("HEAD", "/touchpoints", None),
            ("PATCH", "/touchpoints", None),
            ("POST", "/touchpoints", "{not json"),
        ])
        data = body if isinstance(body, str) else json.dumps(body) if body is not None else None
        try:
            self.http.request(method, f"{self.server.url}/{account}{path}", data=data, auth=self.keys(), timeout=10)
        except requests.ConnectionError:
            pass  # a drop fault

    def control(self) -> None:
        rng, server, account = self.rng, self.server, self.server.account_id
        fault: dict[str, Any] = {"path": rng.choice([f"/{account}/touchpoints*", f"/{account}/members*", "*"])}
        fault.update(rng.choice([{"status": rng.choice([500, 503, 429])},
                                 {"status": 502, "body": {"why": "down"}},
                                 {"action": "drop"},
                                 {"delay_ms": [0, 2]},
                                 {"status": 204}]))
        if rng.random() < 0.7:
            fault["probability"] = rng.choice([0.2, 0.5])
            if rng.random() < 0.5:
                fault["seed"] = rng.choice([1, 42, "chaos"])
        if rng.random() < 0.5:
            fault["times"] = rng.randint(1, 3)
        if rng.random() < 0.3:
            fault["method"] = rng.choice(["GET", "POST"])
        rng.choice([
            lambda: server.add_fault(**fault),
            lambda: server.add_fault(**fault),
            lambda: server.faults() and server.remove_fault(rng.choice(server.faults())["id"]),
            server.clear_faults,
            lambda: server.freeze_clock(rng.choice(["2031-01-01T00:00:00Z", "2029-06-30T23:59:59Z"])),
            lambda: server.advance_clock(rng.choice([0.4, 1, 59, 3600])),
            server.real_clock,
            lambda: server.set_rate_limit(rng.randint(2, 4), rng.choice([1, 60])),
            server.clear_rate_limit,
            lambda: server.load(OTHER_STATE),
            self.restart,  # the session, and the export, start again here
        ])()

    def restart(self) -> None:
        self.server.reset()
        self.http.get(f"{self.server.base_url}/touchpoints", auth=self.server.auth, timeout=10)  # differs on other fixtures
        self.server.add_fault(method="GET", path="/*/members/555", action="drop", times=1)  # a drop in every session
        with pytest.raises(requests.ConnectionError):
            self.http.get(f"{self.server.base_url}/members/555", auth=self.server.auth, timeout=10)

    def run(self, steps: int) -> None:
        self.restart()
        for _ in range(steps):
            self.api() if self.rng.random() < 0.7 else self.control()


CHANGED = json.loads(DEFAULT_FIXTURE.read_text())
CHANGED["touchpoint_types"][0]["display_name"] += " (changed)"


def test_random_sessions_replay_on_a_fresh_mock_and_fail_on_other_fixtures(tmp_path):
    seed = random.randrange(2**32)
    modules = {}
    with MockServer() as server:
        for index in range(SESSIONS):
            Session(server, random.Random(seed + index)).run(STEPS)
            response = requests.get(f"{server.url}/__admin/requests/export", timeout=10)
            assert response.status_code == 200
            modules[f"test_session_{index}.py"] = response.text
            assert "Everything in the session is replayed." in response.text, response.text[:2000]
            assert "with pytest.raises(requests.ConnectionError):  # the connection was dropped" in response.text
    for module in modules.values():
        only_replays(module)
    folder = tmp_path / "fresh"
    folder.mkdir()
    result = replay(folder, modules, "-rA")
    assert result.returncode == 0, f"seed {seed}:\n{result.stdout[-6000:]}\n{modules}"
    assert all(f"PASSED {name}::test_session" in result.stdout for name in modules), result.stdout
    assert f"{SESSIONS} passed" in result.stdout

    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(CHANGED))
    folder = tmp_path / "changed"
    folder.mkdir()
    result = replay(folder, modules, f"--emma-mock-fixtures={changed}")
    assert result.returncode == 1, f"seed {seed}:\n{result.stdout[-6000:]}"
    assert f"{SESSIONS} failed" in result.stdout
    assert len(re.findall(r"AssertionError: \d+: GET /100/touchpoints\n", result.stdout)) == SESSIONS, result.stdout[-6000:]
