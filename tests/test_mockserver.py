"""MockServer and its helpers over a real waitress server: every control of the control API from Python."""
import json
import socket
import threading
import time

import pytest
import requests

from mockserver import MockServer

from helpers import ADMIN_TOKEN_REQUIRED


@pytest.fixture(scope="module")
def running():
    with MockServer() as server:
        yield server


@pytest.fixture
def server(running):
    running.reset()
    return running


def test_where_and_who(server):
    assert server.url.startswith("http://127.0.0.1:")
    assert server.account_id == 100
    assert server.auth == ("demo-public-key", "demo-private-key")
    assert server.base_url == f"{server.url}/100"
    assert server.auth_for(101) == ("other-public-key", "other-private-key")
    listed = server.session.get(f"{server.base_url}/touchpoints")
    assert listed.status_code == 200 and [t["touchpoint_type_id"] for t in listed.json()] == [300, 200]


def test_journal_helpers(server):
    server.session.get(f"{server.base_url}/touchpoints")
    missing = server.session.get(f"{server.base_url}/touchpoints/1234")
    assert missing.json() == {"error": "no touchpoint type with id 1234 in account 100"}
    assert [e["status"] for e in server.requests()] == [200, 404]
    assert len(server.requests(status=404)) == 1
    assert len(server.requests(method="GET", path="/100/touchpoints")) == 1
    server.clear_requests()
    assert server.requests() == []


def test_fault_helpers(server):
    fault = server.add_fault(path="/100/touchpoints", status=500, times=1)
    assert server.faults()[0]["id"] == fault["id"]
    faulted = server.session.get(f"{server.base_url}/touchpoints")
    assert (faulted.status_code, faulted.json()) == (500, {"error": f"Injected fault {fault['id']}: HTTP 500"})
    assert [(f["matched"], f["active"]) for f in server.faults()] == [(1, False)]  # used up, still listed
    server.add_fault(status=500)
    server.remove_fault(server.faults()[-1]["id"])
    server.add_fault(status=500)
    server.clear_faults()
    assert server.faults() == []


def test_drop_closes_the_connection_without_an_answer(server):
    server.add_fault(path="/100/touchpoints", action="drop", times=1)
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{server.base_url}/touchpoints", auth=server.auth, timeout=5)
    after = requests.get(f"{server.base_url}/touchpoints", auth=server.auth, timeout=5)
    assert after.status_code == 200 and len(after.json()) == 2  # the drop was used up
    host, port = server.url.removeprefix("http://").split(":")
    server.add_fault(action="drop", times=1)
    with socket.create_connection((host, int(port)), timeout=5) as raw:
        raw.sendall(b"GET /100/touchpoints HTTP/1.1\r\nHost: x\r\n\r\n")
        assert raw.recv(1024) == b""  # closed, nothing written
    assert server.requests()[-1]["status"] is None


def test_delay_fault_does_not_block_other_requests(server):
    server.add_fault(path="/100/touchpoints/300", delay_ms=800, times=1)
    slow = threading.Thread(target=lambda: requests.get(f"{server.base_url}/touchpoints/300", auth=server.auth))
    slow.start()
    time.sleep(0.05)
    started = time.monotonic()
    other = requests.get(f"{server.base_url}/touchpoints/200", auth=server.auth)
    assert time.monotonic() - started < 0.5
    assert other.status_code == 200 and other.json()["type_name"] == "purchased_tickets"
    slow.join()


def test_clock_helpers(server):
    assert server.freeze_clock("@D:2031-05-06T07:08:09")["now"] == "@D:2031-05-06T07:08:09"
    assert server.advance_clock(1)["now"] == "@D:2031-05-06T07:08:10"
    assert server.real_clock()["frozen"] is False


def test_rate_limit_helpers(server):
    server.set_rate_limit(1, 60)
    assert server.session.get(f"{server.base_url}/touchpoints").status_code == 200
    refused = server.session.get(f"{server.base_url}/touchpoints")
    assert (refused.status_code, refused.json()) == (403, {"error": "Rate Limit Exceeded"})
    server.clear_rate_limit()
    allowed = server.session.get(f"{server.base_url}/touchpoints")
    assert allowed.status_code == 200 and len(allowed.json()) == 2


def test_state_and_load(server, tmp_path):
    state = server.state()
    state["touchpoints"] = []
    path = tmp_path / "f.json"
    path.write_text(json.dumps(state))
    server.load(path)
    assert server.state()["touchpoints"] == []
    server.reset()
    assert len(server.state()["touchpoints"]) == 4


def test_admin_token_is_sent_by_the_helpers():
    with MockServer(admin_token="tok") as server:
        refused = requests.post(f"{server.url}/__admin/reset")
        assert (refused.status_code, refused.json()) == (401, ADMIN_TOKEN_REQUIRED)
        server.add_fault(status=500)
        assert len(server.faults()) == 1


def test_a_failing_control_call_raises_with_the_servers_message(server):
    with pytest.raises(AssertionError, match="400") as raised:
        server.add_fault(status="teapot")
    assert str(raised.value) == ('POST /__admin/faults failed: 400 '
                                 '{"error": "\'status\' must be an HTTP status code from 200 to 599"}')


def test_trailing_slash_and_errors_over_the_real_socket(server):
    response = requests.get(f"{server.base_url}/touchpoints/", auth=server.auth)
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/json"
    response = requests.post(f"{server.base_url}/touchpoints", data=b"x" * (10 * 1024 * 1024 + 1), auth=server.auth)
    assert response.status_code == 413 and response.json()["error"]
