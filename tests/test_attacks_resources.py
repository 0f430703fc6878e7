"""Resource attacks, sent as an outsider would: oversized bodies, many idle or slow
connections, a journal stuffed with huge requests, and endless faults.

Each test bounds its own counts and closes every socket it opens.
"""
from __future__ import annotations

import base64
import json
import resource
import socket
import threading
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from mockserver import MockServer
from mockserver.core import fixtures
from mockserver.core.errors import InvalidFixture
from mockserver.core.globs import MAX_GLOB
from mockserver.serving import server as server_module
from mockserver.serving.server import SMALL_BODY
from mockserver.state import faults as faults_module
from mockserver.state import journal as journal_module
from mockserver.state.journal import Journal

from helpers import read_answer

AUTH = "Basic " + base64.b64encode(b"demo-public-key:demo-private-key").decode()
MiB = 2**20


@pytest.fixture
def server():
    with MockServer() as running:
        yield running


def _connect(server: MockServer, timeout: float = 5) -> socket.socket:
    return socket.create_connection(("127.0.0.1", int(server.url.rsplit(":", 1)[1])), timeout=timeout)


def _answer(sock: socket.socket) -> tuple[int, bytes]:
    """Read one answer (status, body) from `sock`, whose timeout bounds the wait."""
    status, _, body = read_answer(sock)
    return status, body


def _timed_get(server: MockServer, path: str, auth: bool = False) -> tuple[int, Any, float]:
    """GET `path`: the answer's status, its JSON body, and how long it took."""
    started = time.monotonic()
    with _connect(server, timeout=5) as sock:
        extra = f"Authorization: {AUTH}\r\n" if auth else ""
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: mock\r\n{extra}Connection: close\r\n\r\n".encode())
        status, body = _answer(sock)
    return status, json.loads(body), time.monotonic() - started


def _type_ids(types: list[dict[str, Any]]) -> list[int]:
    return [t["touchpoint_type_id"] for t in types]


# --- 4. size caps from the headers -------------------------------------------------------

@pytest.mark.parametrize("method, path, length, cap", [
    ("POST", "/100/touchpoints", 200_000_000, 10 * MiB),
    ("POST", "/100/touchpoints", 20 * MiB, 10 * MiB),
    ("GET", "/100/touchpoints", 200_000_000, 10 * MiB),
    ("POST", "/__admin/faults", 200_000_000, 10 * MiB),
    ("PUT", "/__admin/clock", 200_000_000, 10 * MiB),
    ("PUT", "/__admin/state", 600 * MiB, fixtures.MAX_FIXTURE_BYTES),
])
def test_content_length_over_the_cap_is_413_before_the_body_is_sent(server, method, path, length, cap):
    with _connect(server, timeout=2) as sock:
        started = time.monotonic()
        sock.sendall(f"{method} {path} HTTP/1.1\r\nHost: mock\r\nAuthorization: {AUTH}\r\n"
                     f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n".encode())
        status, body = _answer(sock)  # no body byte was sent: a server waiting for it times out here
        assert time.monotonic() - started < 1.5
    assert status == 413
    assert str(cap) in json.loads(body)["error"]


def test_chunked_body_growing_past_the_cap_is_413_and_reading_stops(server):
    chunk = b"%x\r\n%s\r\n" % (MiB, b" " * MiB)
    sent = 0
    with _connect(server, timeout=5) as sock:
        sock.sendall(b"POST /__admin/faults HTTP/1.1\r\nHost: mock\r\nTransfer-Encoding: chunked\r\n\r\n")
        try:
            for _ in range(40):
                sock.sendall(chunk)
                sent += 1
        except (BrokenPipeError, ConnectionResetError):
            pass
        try:
            status, body = _answer(sock)
        except ConnectionResetError:
            pytest.fail("the connection was reset before the 413 arrived")
    assert status == 413, body
    assert "10 MiB" in json.loads(body)["error"]
    assert sent < 40  # the server stopped reading well before the 40 MiB were sent


def test_admin_body_over_the_cap_is_413_in_the_control_layer_too(client):
    answer = client.post("/__admin/faults", data=b" " * (10 * MiB + 1))
    assert answer.status_code == 413
    assert "10485760" in answer.get_json()["error"]


def test_state_upload_over_10_mib_is_accepted(server):
    state = json.dumps(server.session.get(f"{server.url}/__admin/state").json()).encode()
    padded = state + b" " * (11 * MiB)
    answer = server.session.put(f"{server.url}/__admin/state", data=padded, timeout=30)
    assert answer.status_code == 200, answer.text


def test_fixture_file_over_the_state_cap_is_refused_unread(tmp_path, monkeypatch):
    monkeypatch.setattr(fixtures, "MAX_FIXTURE_BYTES", 100)
    big = tmp_path / "big.json"
    big.write_text("{" + " " * 200 + "}")
    with pytest.raises(InvalidFixture, match="over the"):
        fixtures.load_fixtures(big)


# --- 4. faults capped --------------------------------------------------------------------

def test_faults_are_capped_in_number(client):
    for n in range(faults_module.MAX_FAULTS):
        assert client.post("/__admin/faults", json={"path": f"/never/{n}", "status": 500}).status_code == 200
    refused = client.post("/__admin/faults", json={"path": "/never", "status": 500})
    assert refused.status_code == 400
    assert str(faults_module.MAX_FAULTS) in refused.get_json()["error"]
    assert len(client.get("/__admin/faults").get_json()) == faults_module.MAX_FAULTS
    client.delete("/__admin/faults/1")
    assert client.post("/__admin/faults", json={"path": "/never", "status": 500}).status_code == 200


@pytest.mark.parametrize("spec, field", [
    ({"status": 500, "body": {"error": "x" * (65 * 1024)}}, "body"),
    ({"status": 500, "path": "/" + "*a" * 2000}, "path"),
    ({"status": 500, "seed": "s" * 5000}, "seed"),
    ({"status": 500, "method": "G" * 5000}, "method"),
])
def test_a_fault_s_fields_are_capped(client, spec, field):
    refused = client.post("/__admin/faults", json=spec)
    assert refused.status_code == 400
    assert f"'{field}'" in refused.get_json()["error"]
    assert client.get("/__admin/faults").get_json() == []


def test_api_stays_fast_with_the_most_faults_of_the_longest_globs(server):
    for _n in range(faults_module.MAX_FAULTS):
        glob = "/" + "*a" * ((MAX_GLOB - 1) // 2)
        assert server.session.post(f"{server.url}/__admin/faults",
                                   json={"path": glob, "status": 500}).status_code == 200
    path = "/100/touchpoints?x=" + "a" * 200
    status, body, took = _timed_get(server, path, auth=True)
    assert status == 200 and took < 1.5
    assert _type_ids(body) == [300, 200]  # no fault's glob matched this path


# --- 5. the journal bounded in bytes, read without blocking the API ----------------------

def test_huge_queries_and_headers_are_cut_and_reading_the_journal_stays_fast(server):
    query = "&".join(["a=" + "b" * 10] * 620)  # ~8 KB: the longest target served (SPEC §1: 414 past 8 KiB)
    header_value = "v" * 2000
    for _n in range(40):
        with _connect(server) as sock:
            sock.sendall(f"GET /100/touchpoints?{query} HTTP/1.1\r\nHost: mock\r\n"
                         f"Authorization: {AUTH}\r\nX-Big: {header_value}\r\nConnection: close\r\n\r\n".encode())
            assert _answer(sock)[0] == 200
    started = time.monotonic()
    answer = server.session.get(f"{server.url}/__admin/requests", timeout=30)
    assert time.monotonic() - started < 2
    entries = answer.json()
    assert len(entries) == 40
    for entry in entries:
        assert set(entry["cut"]) == {"query", "headers"}
        assert len(entry["query"]["a"]) * len("a=bbbbbbbbbb&") <= journal_module.QUERY_LIMIT
        assert len(entry["headers"]["X-Big"]) == journal_module.HEADER_VALUE_LIMIT
        assert entry["headers"]["Authorization"] == "***"
    assert len(answer.content) < 2 * MiB


def test_many_headers_are_cut_to_a_count():
    journal = Journal()
    headers = [(f"HTTP_X_{n}", "v") for n in range(1000)]
    journal.record({"method": "GET", "path": "/100/members", "query": "", "headers": headers, "body": b"",
                    "status": 200, "duration_ms": 1.0, "time": datetime.now(UTC)})
    entry = journal.entries()[0]
    assert len(entry["headers"]) == journal_module.HEADER_COUNT_LIMIT
    assert entry["cut"] == ["headers"]


def _entry(body: bytes, path: str = "/100/touchpoints") -> dict:
    return {"method": "POST", "path": path, "query": "", "headers": [], "body": body,
            "status": 200, "duration_ms": 1.0, "time": datetime.now(UTC)}


def test_the_journal_keeps_a_byte_budget_dropping_the_oldest():
    journal = Journal(limit=1000)
    body = json.dumps({"note": "x" * (journal_module.BODY_LIMIT - 20)}).encode()
    for n in range(500):  # 500 × 64 KiB: four times the budget
        journal.record(_entry(body, path=f"/100/touchpoints/{n}"))
    entries = journal.entries()
    kept = sum(len(json.dumps(entry)) for entry in entries)
    assert kept <= journal_module.BYTE_BUDGET * 1.1
    assert entries[-1]["path"] == "/100/touchpoints/499"
    assert 0 < len(entries) < 500


def test_a_cut_body_and_path_are_named_in_cut():
    journal = Journal()
    journal.record(_entry(b"x" * (journal_module.BODY_LIMIT + 1), path="/" + "p" * 5000))
    entry = journal.entries()[0]
    assert entry["cut"] == ["path", "body"]
    assert len(entry["path"]) == journal_module.PATH_LIMIT
    assert "65537 bytes" in entry["body"]


def test_rendering_the_journal_does_not_hold_the_lock_record_needs(monkeypatch):
    journal = Journal()
    journal.record(_entry(b"{}"))
    rendering, release = threading.Event(), threading.Event()

    def slow_render(entry):
        rendering.set()
        release.wait(5)
        return entry

    monkeypatch.setattr(journal_module, "render", slow_render)
    reader = threading.Thread(target=journal.entries)
    reader.start()
    try:
        assert rendering.wait(5)
        recorder = threading.Thread(target=journal.record, args=(_entry(b"{}"),))
        recorder.start()
        recorder.join(2)
        assert not recorder.is_alive(), "record() waited for the journal to be rendered"
    finally:
        release.set()
        reader.join(5)


def test_journal_path_filter_glob_is_bounded(client):
    answer = client.get("/__admin/requests", query_string={"path": "/" + "*" * 5000})
    assert answer.status_code == 400
    assert "'path'" in answer.get_json()["error"]


# --- 3. connections: idle, half-sent and slow-loris --------------------------------------

def test_hundreds_of_idle_and_half_sent_connections_do_not_lock_clients_out(server):
    idle_count, half_count = 300, 100
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)  # the server raised it toward the hard limit
    if soft < 2 * (idle_count + half_count) + 100:
        pytest.skip(f"this machine allows only {soft} open files")
    sockets = []
    try:
        for _ in range(idle_count):
            sockets.append(_connect(server))
        for n in range(half_count):
            sock = _connect(server)
            sockets.append(sock)
            if n % 2:  # headers without their end
                sock.sendall(b"GET /100/members HTTP/1.1\r\nHost: mock\r\nX-Slow: ")
            else:  # a body that stops halfway
                sock.sendall(b"POST /100/touchpoints HTTP/1.1\r\nHost: mock\r\n"
                             b"Content-Length: 1000\r\n\r\n{\"name\": ")
        status, body, took = _timed_get(server, "/__admin/health")
        assert status == 200 and took < 1.5, took
        assert body == {"status": "ok"}
        status, body, took = _timed_get(server, "/100/touchpoints", auth=True)
        assert status == 200 and took < 1.5, took
        assert _type_ids(body) == [300, 200]
        assert server._server._server.adj.connection_limit >= 1000
    finally:
        for sock in sockets:
            sock.close()


def test_slow_loris_headers_are_cut_off(server, monkeypatch):
    monkeypatch.setattr(server_module, "REQUEST_TIMEOUT", 0.5)
    request = b"GET /__admin/health HTTP/1.1\r\nHost: mock\r\n" + b"X-Slow: " + b"a" * 200
    closed_after = None
    with _connect(server, timeout=1) as sock:
        started = time.monotonic()
        try:
            for byte in request:  # one byte every 50 ms: each alone resets an idle timeout
                sock.sendall(bytes([byte]))
                time.sleep(0.05)
        except (BrokenPipeError, ConnectionResetError):
            closed_after = time.monotonic() - started
        if closed_after is None:
            try:
                sock.recv(1024)  # the 408 (see below), or nothing when the bytes sent after it reset the socket
            except ConnectionResetError:
                pass
            closed_after = time.monotonic() - started
    assert closed_after < 5
    status, body, _ = _timed_get(server, "/__admin/health")
    assert (status, body) == (200, {"status": "ok"})  # the server still answers others


@pytest.mark.parametrize("method, body", [("GET", True), ("HEAD", False)])
def test_a_request_that_stops_arriving_is_answered_408_then_closed(server, monkeypatch, method, body):
    monkeypatch.setattr(server_module, "REQUEST_TIMEOUT", 0.5)
    with _connect(server, timeout=5) as sock:
        sock.sendall(f"{method} /100/touchpoints HTTP/1.1\r\nHost: mock\r\nX-Half: ".encode())
        status, headers, answer = read_answer(sock, head=not body)
        assert sock.recv(1024) == b""  # then closed
    assert status == 408
    assert headers["content-type"] == "application/json"
    if body:
        assert "too long to arrive" in json.loads(answer)["error"]
    else:
        assert answer == b""


def test_an_overlong_method_is_cut_in_the_journal(server):
    method = "X" * 100_000
    with _connect(server) as sock:
        sock.sendall(f"{method} /100/touchpoints HTTP/1.1\r\nHost: mock\r\nAuthorization: {AUTH}\r\n"
                     "Connection: close\r\n\r\n".encode())
        status, body = _answer(sock)
        assert status == 405 and len(body) < 1000  # the answer does not echo the method whole either
        error = json.loads(body)["error"]  # the method cut short with an ellipsis, then what is allowed
        assert error.startswith("XXX") and "X\u2026 is not allowed" in error
        assert error.endswith(" is not allowed on /100/touchpoints; allowed: GET, HEAD, POST")
    entry = server.session.get(f"{server.url}/__admin/requests").json()[-1]
    assert entry["cut"] == ["method"]
    assert len(entry["method"]) == journal_module.METHOD_LIMIT


def test_the_rate_limit_window_is_capped(client):
    refused = client.put("/__admin/rate-limit", json={"requests": 10**12, "per_seconds": 86400})
    assert refused.status_code == 400
    assert "100000" in refused.get_json()["error"]
    assert client.put("/__admin/rate-limit", json={"requests": 100_000, "per_seconds": 1}).status_code == 200


@pytest.mark.parametrize("length", ["9" * 5000, "0" * 5000 + "5"])
def test_a_content_length_of_thousands_of_digits_is_a_json_400(server, length):
    with _connect(server, timeout=2) as sock:
        sock.sendall(f"POST /__admin/faults HTTP/1.1\r\nHost: mock\r\nContent-Length: {length}\r\n\r\n".encode())
        status, body = _answer(sock)
    assert status == 400
    assert "Content-Length" in json.loads(body)["error"]


# --- bodies held at once: one budget per server ------------------------------------------

def _start_body(server: MockServer, framing: str, sent: bytes) -> socket.socket:
    """A POST with these framing headers, of whose body only `sent` is sent (for now)."""
    sock = _connect(server)
    sock.sendall(f"POST /100/touchpoints HTTP/1.1\r\nHost: mock\r\nAuthorization: {AUTH}\r\n{framing}\r\n\r\n"
                 .encode() + sent)
    return sock


def _post(server: MockServer, body: bytes) -> tuple[int, bytes]:
    with _connect(server) as sock:
        sock.sendall(f"POST /100/touchpoints HTTP/1.1\r\nHost: mock\r\nAuthorization: {AUTH}\r\n"
                     f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)
        return _answer(sock)


def _held(server: MockServer) -> int:
    """The bytes of request bodies the running server holds now."""
    assert server._server is not None
    return server._server.body_budget.held


def test_large_bodies_past_the_servers_budget_are_503_and_small_requests_still_answer(monkeypatch):
    monkeypatch.setattr(server_module, "BODY_BUDGET", 3 * MiB)
    with MockServer() as server:
        held = [_start_body(server, f"Content-Length: {MiB}", b"[") for _ in range(3)]  # slow uploads fill it
        try:
            deadline = time.monotonic() + 5
            while _held(server) < 3 * MiB and time.monotonic() < deadline:
                time.sleep(0.05)
            with _start_body(server, f"Content-Length: {MiB}", b"[") as refused:
                status, headers, body = read_answer(refused)
            assert status == 503
            assert "retry in" in json.loads(body)["error"]
            assert headers.get("retry-after") == str(server_module.RETRY_AFTER_SECONDS)
            # a chunked body counts what has arrived: once past SMALL_BODY it needs the budget too
            part = b" " * (SMALL_BODY + 1)
            with _start_body(server, "Transfer-Encoding: chunked", b"%x\r\n%s\r\n" % (len(part), part)) as chunked:
                status, body = _answer(chunked)
                assert status == 503 and "retry in" in json.loads(body)["error"]
            # a body under SMALL_BODY and a bodiless request need no budget
            small = json.dumps({"type_name": "small", "display_name": "Small"}).encode()
            status, body = _post(server, small)
            assert status == 200 and json.loads(body)["type_name"] == "small"
            status, listed, _ = _timed_get(server, "/100/touchpoints", auth=True)
            assert status == 200 and "small" in [t["type_name"] for t in listed]
        finally:
            for sock in held:
                sock.close()
        # closed connections give their bytes back, and so does a request once answered
        _wait_until_nothing_held(server)
        big = json.dumps({"type_name": "big", "display_name": "x" * (MiB - 100)}).encode()
        status, answer = _post(server, big)
        assert status == 200, answer[:200]
        assert json.loads(answer)["display_name"] == "x" * (MiB - 100)
        _wait_until_nothing_held(server)


def _wait_until_nothing_held(server: MockServer) -> None:
    deadline = time.monotonic() + 5
    while _held(server) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _held(server) == 0
