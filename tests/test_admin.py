"""The /__admin control API: health, reset, state, journal, faults, clock, rate limit."""
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC

import pytest

from mockserver import Config, create_app

from helpers import ADMIN_TOKEN_REQUIRED, AUTH_REQUIRED, DEMO_AUTH, RATE_LIMITED, basic, hold_delays, replay

DEFAULT_TYPE_IDS = [300, 200]  # account 100's touchpoint types in the shipped fixture, as listed (oldest first)


def type_ids(response):
    return [t["touchpoint_type_id"] for t in response.json]


def test_health(anonymous):
    response = anonymous.get("/__admin/health")
    assert response.status_code == 200 and response.json == {"status": "ok"}


# --- reset and state -----------------------------------------------------------------------

def test_reset_restores_data_and_id_sequences(client):
    first = client.post("/100/touchpoints", json={"type_name": "x", "display_name": "X"}).json["touchpoint_type_id"]
    client.delete("/100/touchpoints/300")
    assert client.post("/__admin/reset").status_code == 200
    assert [t["touchpoint_type_id"] for t in client.get("/100/touchpoints").json] == [300, 200]
    again = client.post("/100/touchpoints", json={"type_name": "x", "display_name": "X"}).json["touchpoint_type_id"]
    assert again == first


def test_state_round_trips_as_a_fixture_document(client):
    state = client.get("/__admin/state").json
    assert set(state) == {"accounts", "members", "touchpoint_types", "touchpoints"}
    assert client.put("/__admin/state", json=state).status_code == 200
    assert client.get("/__admin/state").json == state


def test_state_upload_replaces_everything_and_restarts_sequences(client):
    doc = {"accounts": [{"account_id": 7, "public_key": "k7", "private_key": "s7"}],
           "members": [{"account_id": 7, "member_id": 70, "email": "m@example.com"}],
           "touchpoint_types": [{"account_id": 7, "touchpoint_type_id": 5000, "type_name": "t", "display_name": "T"}]}
    assert client.put("/__admin/state", json=doc).status_code == 200
    gone = client.get("/100/touchpoints")  # account 100's keys are gone
    assert (gone.status_code, gone.json) == (401, {"error": "unknown API keys: check the public and private key"})
    seven = basic("k7", "s7")
    created = client.post("/7/touchpoints", json={"type_name": "u", "display_name": "U"}, headers=seven)
    assert created.json["touchpoint_type_id"] == 5001
    tp = client.post("/7/touchpoints/members", json={"touchpoints": [{"member_id": 70, "type_name": "t"}]},
                     headers=seven)
    assert tp.json[0]["touchpoint_id"] == 1  # no touchpoints in the new state: the sequence starts at 1


@pytest.mark.parametrize(("doc", "error"), [
    ([], "state: a fixture must be a JSON object with accounts, members, touchpoint_types, touchpoints"),
    ({"accounts": "x"}, "state: 'accounts' must be a list"),
    ({"members": [{"account_id": 1}]}, "state: members[0]: 'email' must be a non-empty string, got null"),
    ({"accounts": [{"account_id": 1, "public_key": "a", "private_key": "b"}],
      "touchpoints": [{"account_id": 1, "touchpoint_id": 1, "member_id": 2, "touchpoint_type_id": 3}]},
     "state: touchpoints[0]: member_id 2 is not a member of account 1")])
def test_an_invalid_state_is_400_and_changes_nothing(client, doc, error):
    before = client.get("/__admin/state").json
    response = client.put("/__admin/state", json=doc)
    assert response.status_code == 400
    assert isinstance(response.json["error"], str)
    assert response.json == {"error": error}  # names the record and the field at fault
    assert client.get("/__admin/state").json == before


# --- journal -------------------------------------------------------------------------------

def test_journal_records_api_requests_oldest_first_with_masked_credentials(client):
    client.delete("/__admin/requests")
    client.get("/100/touchpoints?start=0&tag=a&tag=b")
    client.post("/100/touchpoints", json={"type_name": "j", "display_name": "J"})
    client.post("/100/touchpoints", data="not json")
    client.get("/__admin/health")  # control requests are not journaled
    entries = client.get("/__admin/requests").json
    assert [(e["method"], e["path"], e["status"]) for e in entries] == [
        ("GET", "/100/touchpoints", 200), ("POST", "/100/touchpoints", 200), ("POST", "/100/touchpoints", 400)]
    assert entries[0]["query"] == {"start": "0", "tag": ["a", "b"]}
    assert entries[0]["body"] is None
    assert entries[1]["body"] == {"type_name": "j", "display_name": "J"}
    assert entries[2]["body"] == "not json"
    for entry in entries:
        assert entry["duration_ms"] >= 0 and entry["time"].startswith("@D:")
        assert "demo-private-key" not in str(entry)
        assert entry["headers"]["Authorization"] == "***"


def test_journal_filters_count_and_clear(client):
    client.get("/100/touchpoints")
    client.get("/100/touchpoints/999")
    client.delete("/100/touchpoints/300")
    assert len(client.get("/__admin/requests?method=delete").json) == 1
    assert [e["path"] for e in client.get("/__admin/requests?status=404").json] == ["/100/touchpoints/999"]
    assert len(client.get("/__admin/requests?path=/100/touchpoints/*").json) == 2
    assert client.get("/__admin/requests?count=true").json == 3
    assert client.delete("/__admin/requests").status_code == 200
    assert client.get("/__admin/requests").json == []


def test_journal_is_bounded():
    from mockserver import Config, create_app
    client = create_app(Config(journal_size=5, auth=False)).test_client()
    for i in range(8):
        client.get(f"/100/touchpoints/{i}")
    paths = [e["path"] for e in client.get("/__admin/requests").json]
    assert paths == [f"/100/touchpoints/{i}" for i in range(3, 8)]


# --- faults --------------------------------------------------------------------------------

def test_a_fault_answers_instead_of_the_api_and_changes_nothing(client):
    fault = client.post("/__admin/faults", json={"method": "POST", "path": "/100/touchpoints", "status": 503}).json
    assert fault["id"] >= 1
    response = client.post("/100/touchpoints", json={"type_name": "never", "display_name": "N"})
    assert response.status_code == 503
    assert response.content_type == "application/json" and "error" in response.json
    assert all(t["type_name"] != "never" for t in client.get("/100/touchpoints").json)  # GET is not matched
    assert client.get("/__admin/requests?status=503").json[0]["path"] == "/100/touchpoints"


def test_a_fault_with_a_body_and_times(client):
    client.post("/__admin/faults", json={"path": "/100/touchpoints*", "status": 429, "body": {"error": "slow down"},
                                         "times": 2})
    assert client.get("/100/touchpoints/300").json == {"error": "slow down"}
    second = client.get("/100/touchpoints")
    assert (second.status_code, second.json) == (429, {"error": "slow down"})
    used_up = client.get("/100/touchpoints")
    assert used_up.status_code == 200 and type_ids(used_up) == DEFAULT_TYPE_IDS  # used up
    (listed,) = client.get("/__admin/faults").json  # still listed, so a test can see it fired
    assert (listed["times"], listed["matched"], listed["active"]) == (0, 2, False)


def test_used_up_faults_make_room_for_new_ones(client):
    from mockserver.state.faults import MAX_FAULTS
    client.post("/__admin/faults", json={"path": "/100/touchpoints", "status": 503, "times": 1})
    fired = client.get("/100/touchpoints")
    assert (fired.status_code, fired.json) == (503, {"error": "Injected fault 1: HTTP 503"})
    for _ in range(MAX_FAULTS - 1):
        assert client.post("/__admin/faults", json={"path": "/nothing", "status": 500}).status_code == 200
    assert client.post("/__admin/faults", json={"path": "/nothing", "status": 500}).status_code == 200
    assert all(f["active"] for f in client.get("/__admin/faults").json)
    refused = client.post("/__admin/faults", json={"path": "/nothing", "status": 500})
    assert (refused.status_code, refused.json) == (400, {"error": f"there are already {MAX_FAULTS} faults, the most "
                                                                  "this server keeps; remove some (DELETE "
                                                                  "/__admin/faults/{id}, or DELETE /__admin/faults)"})


def test_faults_come_before_authentication(anonymous):
    fault = anonymous.post("/__admin/faults", json={"path": "/100/*", "status": 500}).json
    answer = anonymous.get("/100/touchpoints")  # no credentials, yet the fault answers, not the 401
    assert (answer.status_code, answer.json) == (500, {"error": f"Injected fault {fault['id']}: HTTP 500"})


def test_a_delay_only_fault_delays_then_proceeds(client):
    client.post("/__admin/faults", json={"path": "/100/touchpoints", "delay_ms": 150})
    started = time.monotonic()
    response = client.get("/100/touchpoints")
    assert response.status_code == 200 and len(response.json) == 2
    assert time.monotonic() - started >= 0.14
    assert client.get("/__admin/requests").json[-1]["duration_ms"] >= 140


def test_probability_with_a_seed_is_reproducible(client):
    def run():
        client.post("/__admin/reset")
        client.post("/__admin/faults", json={"path": "/100/touchpoints", "status": 500, "probability": 0.5,
                                             "seed": 42})
        answers = [client.get("/100/touchpoints") for _ in range(30)]
        assert all(answer.json == {"error": "Injected fault 1: HTTP 500"} if answer.status_code == 500
                   else type_ids(answer) == DEFAULT_TYPE_IDS for answer in answers)  # the fault's answer or the API's
        return [answer.status_code for answer in answers]
    first = run()
    assert first == run()
    assert 500 in first and 200 in first


def test_faults_list_delete_and_clear(client):
    a = client.post("/__admin/faults", json={"status": 500}).json["id"]
    b = client.post("/__admin/faults", json={"delay_ms": [1, 2]}).json["id"]
    assert [f["id"] for f in client.get("/__admin/faults").json] == [a, b]
    assert client.delete(f"/__admin/faults/{a}").status_code == 200
    again = client.delete(f"/__admin/faults/{a}")
    assert (again.status_code, again.json) == (404, {"error": f"no fault with id {a}"})
    assert [f["id"] for f in client.get("/__admin/faults").json] == [b]
    client.delete("/__admin/faults")
    assert client.get("/__admin/faults").json == []


@pytest.mark.parametrize(("spec", "names"), [
    ({}, "a fault needs at least one of 'status', 'delay_ms' or 'action'"),
    ({"method": "GET"}, "a fault needs at least one of"), ({"status": "500"}, "'status' must be an HTTP status code"),
    ({"status": 99}, "from 200 to 599"), ({"delay_ms": -1}, "'delay_ms' must be a number or [min, max]"),
    ({"delay_ms": [5, 1]}, "'delay_ms'"), ({"delay_ms": "x"}, "from 0 to 600000"),
    ({"action": "explode"}, "'action' must be \"respond\" or \"drop\""),
    ({"status": 500, "times": 0}, "'times' must be a positive integer"),
    ({"status": 500, "probability": 2}, "'probability' must be a number from 0 to 1"),
    ({"status": 500, "path": ""}, "'path' must be a path glob of 1 to 256 characters"),
    ({"status": 500, "path": "/" * 257}, "'path' must be a path glob of 1 to 256 characters"),
    ({"status": 500, "colour": "red"}, "unknown fault field 'colour' (allowed: action, body, delay_ms, method,"),
    ([], "a fault must be a JSON object")])
def test_bad_faults_are_400(client, spec, names):
    response = client.post("/__admin/faults", json=spec)
    assert response.status_code == 400
    assert isinstance(response.json["error"], str)
    assert names in response.json["error"]  # the field at fault and what it must be


def test_drop_without_a_real_server_says_so(client):
    client.post("/__admin/faults", json={"action": "drop"})
    response = client.get("/100/touchpoints")
    assert response.status_code == 502 and "drop" in response.json["error"]


# --- clock ---------------------------------------------------------------------------------

def test_frozen_clock_dates_everything_created(client):
    assert client.put("/__admin/clock", json={"now": "2030-01-02T03:04:05Z"}).json == \
        {"now": "@D:2030-01-02T03:04:05", "frozen": True}
    created_type = client.post("/100/touchpoints", json={"type_name": "c", "display_name": "C"}).json
    assert created_type["created_at"] == "@D:2030-01-02T03:04:05"
    tp = client.post("/100/touchpoints/members", json={"touchpoints": [{"member_id": 444, "type_name": "c"}]}).json[0]
    assert tp["inserted_at"] == tp["touchpoint_timestamp"] == "@D:2030-01-02T03:04:05"
    member_id = client.post("/100/members/add", json={"email": "clock@example.com"}).json["member_id"]
    assert client.get(f"/100/members/{member_id}").json["member_since"] == "@D:2030-01-02T03:04:05"
    client.put("/__admin/clock", json={"advance_seconds": 3600})
    assert client.get("/__admin/clock").json["now"] == "@D:2030-01-02T04:04:05"
    assert client.delete("/__admin/clock").json["frozen"] is False


def test_advancing_a_running_clock_freezes_it_ahead_of_real_time(client):
    from datetime import datetime, timedelta
    now = client.put("/__admin/clock", json={"advance_seconds": 86400}).json
    expected = datetime.now(UTC) + timedelta(days=1)
    moment = datetime.strptime(now["now"], "@D:%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    assert abs((moment - expected).total_seconds()) < 5 and now["frozen"] is True


ONE_OF = "send exactly one of 'now' (a date) or 'advance_seconds' (a number)"
NOT_A_DATE = 'is not a date: use "@D:YYYY-MM-DDTHH:MM:SS" or ISO 8601 "YYYY-MM-DDTHH:MM:SS[.fff][Z|+HH:MM]"'
SECONDS = "'advance_seconds' must be a non-negative number of seconds"


@pytest.mark.parametrize(("body", "error"), [
    ({}, ONE_OF), ({"now": "tomorrow"}, f"'now': 'tomorrow' {NOT_A_DATE}"),
    ({"now": "2030-01-01"}, f"'now': '2030-01-01' {NOT_A_DATE}"), ({"advance_seconds": "5"}, SECONDS),
    ({"advance_seconds": -1}, SECONDS), ({"now": "2030-01-01T00:00:00", "advance_seconds": 1}, ONE_OF)])
def test_bad_clock_requests_are_400(client, body, error):
    response = client.put("/__admin/clock", json=body)
    assert (response.status_code, response.json) == (400, {"error": error})
    assert client.get("/__admin/clock").json["frozen"] is False  # nothing changed


# --- rate limit ----------------------------------------------------------------------------

def test_rate_limit_answers_like_the_real_api_and_does_not_count_refusals(client, other):
    assert client.put("/__admin/rate-limit", json={"requests": 2, "per_seconds": 60}).status_code == 200
    assert client.get("/100/touchpoints").status_code == 200
    assert client.post("/100/touchpoints", json={"type_name": "r1", "display_name": "R"}).status_code == 200
    refused = client.post("/100/touchpoints", json={"type_name": "r2", "display_name": "R"})
    assert refused.status_code == 403
    assert refused.json == {"error": "Rate Limit Exceeded"}
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert all(t["type_name"] != "r2" for t in client.get("/__admin/state").json["touchpoint_types"])
    others = other.get("/101/touchpoints")  # per account
    assert others.status_code == 200 and type_ids(others) == [400]
    assert client.delete("/__admin/rate-limit").status_code == 200
    allowed = client.get("/100/touchpoints")
    assert allowed.status_code == 200 and "r1" in [t["type_name"] for t in allowed.json]


def test_rate_limit_window_slides_on_the_mock_clock(client):
    """The window is counted on the mock's clock: advancing it moves past the window, no sleep."""
    client.put("/__admin/clock", json={"now": "2030-01-01T00:00:00Z"})
    client.put("/__admin/rate-limit", json={"requests": 1, "per_seconds": 60})
    assert client.get("/100/touchpoints").status_code == 200
    refused = client.get("/100/touchpoints")
    assert (refused.status_code, refused.json, refused.headers["Retry-After"]) == (
        403, {"error": "Rate Limit Exceeded"}, "60")
    client.put("/__admin/clock", json={"advance_seconds": 59})
    assert client.get("/100/touchpoints").headers["Retry-After"] == "1"
    client.put("/__admin/clock", json={"advance_seconds": 1})
    allowed = client.get("/100/touchpoints")
    assert allowed.status_code == 200 and type_ids(allowed) == DEFAULT_TYPE_IDS


def test_setting_the_clock_back_forgets_no_counted_request_and_setting_the_limit_again_does(client):
    """A reading counts until the clock is per_seconds past it, even one "from the future" of a clock set back
    (so a replay, which freezes the clock back to a held request's reading, decides as the session did)."""
    client.put("/__admin/clock", json={"now": "2030-01-01T00:00:00Z"})
    client.put("/__admin/rate-limit", json={"requests": 1, "per_seconds": 60})
    assert client.get("/100/touchpoints").status_code == 200
    client.put("/__admin/clock", json={"now": "2029-12-31T23:59:00Z"})
    refused = client.get("/100/touchpoints")
    assert (refused.status_code, refused.json, refused.headers["Retry-After"]) == (403, RATE_LIMITED, "120")
    client.put("/__admin/rate-limit", json={"requests": 1, "per_seconds": 60})  # a fresh window
    allowed = client.get("/100/touchpoints")
    assert allowed.status_code == 200 and type_ids(allowed) == DEFAULT_TYPE_IDS


def test_a_request_held_by_a_delay_counts_against_the_limit_whatever_the_order(app, client):
    """A request held by a delay fault reads the clock on arrival and is counted after one that read it later:
    with 1 request per 60 s, only one of the two passes (the held one is refused)."""
    _held_request_session(app, client)


def _held_request_session(app, client) -> str:
    """The session of the test above, checked as it goes; its export."""
    held, release = hold_delays(app)
    client.put("/__admin/clock", json={"now": "2030-01-01T00:00:00Z"})
    client.put("/__admin/rate-limit", json={"requests": 1, "per_seconds": 60})
    client.post("/__admin/faults", json={"path": "/100/touchpoints/300", "delay_ms": 1000})
    with ThreadPoolExecutor(1) as pool:
        delayed = pool.submit(app.test_client().get, "/100/touchpoints/300", headers=basic(*DEMO_AUTH))
        assert held.wait(10)
        client.put("/__admin/clock", json={"advance_seconds": 1})
        first = client.get("/100/touchpoints/200")  # read one second later, counted first
        release.set()
        late = delayed.result(timeout=10)
    assert first.status_code == 200 and first.json["touchpoint_type_id"] == 200
    assert (late.status_code, late.json, late.headers["Retry-After"]) == (403, RATE_LIMITED, "61")
    return client.get("/__admin/requests/export").get_data(as_text=True)


def test_keys_changed_while_a_delay_holds_a_request_are_the_keys_it_is_checked_against(app, client):
    """Authentication decides once the delay is over, on the state then: keys replaced meanwhile refuse it."""
    held, release = hold_delays(app)
    client.post("/__admin/faults", json={"path": "/100/touchpoints/300", "delay_ms": 1000, "times": 1})
    state = client.get("/__admin/state").json
    state["accounts"][0]["private_key"] = "a-new-private-key"
    with ThreadPoolExecutor(1) as pool:
        delayed = pool.submit(app.test_client().get, "/100/touchpoints/300", headers=basic(*DEMO_AUTH))
        assert held.wait(10)
        assert client.put("/__admin/state", json=state).status_code == 200
        release.set()
        late = delayed.result(timeout=10)
    assert (late.status_code, late.json["error"]) == (401, "unknown API keys: check the public and private key")
    assert client.get("/__admin/requests").json[-1]["status"] == 401


def test_a_session_with_a_held_request_replays_as_it_went(app, client, tmp_path):
    """The export freezes the clock back to the held request's reading for it: the replay decides the same.
    (The requests overlapped under a rate limit, so the module expects it may fail: it passes, XPASS.)"""
    module = _held_request_session(app, client)
    result = replay(tmp_path, {"test_held.py": module})
    assert result.returncode == 0 and "1 xpassed" in result.stdout, result.stdout + module
    assert "Entry 2 came in before entry 1 but was answered after it, in a session with a rate limit" in module
    assert module.index("emma_mock.freeze_clock(\"@D:2030-01-01T00:00:01\")") < module.index(
        "emma_mock.freeze_clock(\"@D:2030-01-01T00:00:00\")")  # the held one, counted last, read earlier


def test_unauthenticated_requests_are_not_counted(client, anonymous):
    client.put("/__admin/rate-limit", json={"requests": 1, "per_seconds": 60})
    for _ in range(3):
        refused = anonymous.get("/100/touchpoints")
        assert (refused.status_code, refused.json) == (401, AUTH_REQUIRED)
    allowed = client.get("/100/touchpoints")
    assert allowed.status_code == 200 and type_ids(allowed) == DEFAULT_TYPE_IDS


REQUESTS = "'requests' must be a positive integer, at most 100000"
PER_SECONDS = "'per_seconds' must be a number of seconds above 0 (at most 86400)"


@pytest.mark.parametrize(("body", "error"), [
    ({}, REQUESTS), ({"requests": 0, "per_seconds": 1}, REQUESTS), ({"requests": 5}, PER_SECONDS),
    ({"requests": "5", "per_seconds": 1}, REQUESTS), ({"requests": 5, "per_seconds": 0}, PER_SECONDS)])
def test_bad_rate_limits_are_400(client, body, error):
    response = client.put("/__admin/rate-limit", json=body)
    assert (response.status_code, response.json) == (400, {"error": error})
    allowed = client.get("/100/touchpoints")  # no limit was set
    assert allowed.status_code == 200 and type_ids(allowed) == DEFAULT_TYPE_IDS


def test_reset_clears_journal_faults_clock_and_rate_limit(client):
    client.put("/__admin/clock", json={"now": "2030-01-01T00:00:00"})
    client.put("/__admin/rate-limit", json={"requests": 1, "per_seconds": 60})
    client.post("/__admin/faults", json={"path": "/999", "status": 500})
    client.get("/100/touchpoints")
    client.post("/__admin/reset")
    assert client.get("/__admin/faults").json == []
    assert client.get("/__admin/clock").json["frozen"] is False
    assert client.get("/__admin/rate-limit").json is None
    assert client.get("/__admin/requests").json == []
    for _ in range(2):  # the rate limit of one request is gone
        allowed = client.get("/100/touchpoints")
        assert allowed.status_code == 200 and type_ids(allowed) == DEFAULT_TYPE_IDS


def test_admin_token_guards_the_control_api_but_not_health():
    from mockserver import Config, create_app
    client = create_app(Config(admin_token="s3cret")).test_client()
    health = client.get("/__admin/health")
    assert (health.status_code, health.json) == (200, {"status": "ok"})
    for headers in ({}, {"X-Admin-Token": "wrong"}):
        refused = client.post("/__admin/reset", headers=headers)
        assert (refused.status_code, refused.json) == (401, ADMIN_TOKEN_REQUIRED)
    reset = client.post("/__admin/reset", headers={"X-Admin-Token": "s3cret"})
    assert (reset.status_code, reset.json) == (200, {"status": "reset"})
    state = client.get("/__admin/state", headers={"Authorization": "Bearer s3cret"})
    assert state.status_code == 200 and set(state.json) == {"accounts", "members", "touchpoint_types", "touchpoints"}


def test_the_control_api_has_an_index_with_a_line_of_help_per_endpoint():
    client = create_app(Config(admin_token="s3cret")).test_client()
    for path in ("/__admin", "/__admin/"):
        answer = client.get(path)  # open like health: it holds no state
        assert answer.status_code == 200 and answer.content_type == "application/json"
        endpoints = {(e["method"], e["path"]): e["help"] for e in answer.get_json()["endpoints"]}
        assert ("POST", "/__admin/reset") in endpoints and ("DELETE", "/__admin/faults/{fault_id}") in endpoints
        assert all(help_ for help_ in endpoints.values())
    refused = client.get("/__admin/state")  # the rest still needs the token
    assert (refused.status_code, refused.json) == (401, ADMIN_TOKEN_REQUIRED)


def test_reset_restarts_fault_ids():
    client = create_app(Config(auth=False)).test_client()
    client.post("/__admin/faults", json={"status": 500})
    client.post("/__admin/reset")
    assert client.post("/__admin/faults", json={"status": 500}).json["id"] == 1


def test_a_refused_fault_uses_up_no_id(client):
    refused = client.post("/__admin/faults", json={"status": 1000})
    assert (refused.status_code, refused.json) == (400, {"error": "'status' must be an HTTP status code from 200 to 599"})
    assert client.post("/__admin/faults", json={"status": 500}).json["id"] == 1


def test_a_get_fault_answers_head_too(client):
    fault = client.post("/__admin/faults", json={"method": "GET", "path": "/100/touchpoints", "status": 503}).json
    got = client.get("/100/touchpoints")
    assert (got.status_code, got.json) == (503, {"error": f"Injected fault {fault['id']}: HTTP 503"})
    head = client.head("/100/touchpoints")
    assert (head.status_code, head.data) == (503, b"")  # a HEAD answer has headers only, never a body
