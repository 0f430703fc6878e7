"""Attacks on how paths and bodies are read: odd digits in ids, pathological fields, HEAD answers,
fault globs and lone surrogates. Sent as an attacker sends them (raw sockets where a client would
normalise the request)."""
from __future__ import annotations

import json
import socket
import time
from urllib.parse import quote

import pytest
from werkzeug.routing.converters import NumberConverter

from mockserver import Config, create_app
from mockserver.core.errors import NotFound
from mockserver.core.globs import glob_matches
from mockserver.testing import MockServer

from helpers import DEMO_AUTH, assert_json_answer, basic, raw_request, read_answer

AUTH = basic(*DEMO_AUTH)["Authorization"]

# Account 100 written in ways int() or a Unicode-aware router would read as 100, or as another number.
ODD_ACCOUNTS = ["١٠٠", "１００", "¹⁰⁰", "۱۰۰", "𝟏𝟎𝟎", "0100", "00100", "+100", "-100", " 100", "100 ", "1_00",
                "0x64", "100.0", "1e2", "1" + "0" * 18, "9" * 40, "100\x00"]


@pytest.fixture(scope="module")
def server():
    with MockServer() as running:
        yield running


@pytest.fixture
def app():
    return create_app(Config())


def _raw(server: MockServer, request_line: bytes, headers: bytes = b"") -> tuple[int, dict, bytes]:
    return raw_request(server.url, request_line + b"\r\nHost: x\r\nConnection: close\r\n" + headers + b"\r\n")


@pytest.mark.parametrize("account", ODD_ACCOUNTS)
def test_an_account_id_that_is_not_plain_ascii_digits_is_an_unknown_path_without_credentials(server, account):
    state = json.dumps(server.state(), sort_keys=True)
    path = f"/{quote(account, safe='+')}/touchpoints".encode()  # waitress takes only ASCII on the wire
    for method, body in ((b"GET", b""), (b"POST", b'{"type_name": "x", "display_name": "X"}'), (b"DELETE", b"")):
        status, headers, answer = _raw(server, method + b" " + path + b" HTTP/1.1",
                                       b"Content-Length: %d\r\n\r\n" % len(body) + body if body else b"")
        assert status == 404, (method, account, status, answer[:200])
        assert_json_answer(status, headers.get("content-type"), answer, f"{method} {account!r}")
    delete = _raw(server, f"DELETE /{quote(account, safe='+')}/touchpoints/300 HTTP/1.1".encode())
    assert delete[0] == 404, delete
    assert json.loads(delete[2]) == {"error": f"no such endpoint: DELETE /{account}/touchpoints/300"}, delete
    assert json.dumps(server.state(), sort_keys=True) == state


@pytest.mark.parametrize("record", ["٣٠٠", "３００", "0300", "+300", "3_00", "300\x00"])
def test_a_record_id_that_is_not_plain_ascii_digits_is_an_unknown_path(app, record):
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = AUTH
    before = client.get("/__admin/state").get_json()
    for method in ("GET", "PUT", "DELETE"):
        response = client.open(f"/100/touchpoints/{record}", method=method,
                               json={"type_name": "x", "display_name": "X"})
        assert response.status_code == 404, (method, record, response.get_data())
    assert client.get("/__admin/state").get_json() == before


def test_unicode_digits_in_a_path_do_not_pass_faults_the_rate_limit_or_the_journal(server):
    """Every layer reads the same path: a fault on /100/* and the journal filter see what routing sees."""
    server.clear_requests()
    server.set_rate_limit(1, 3600)
    try:
        status, _, answer = _raw(server, f"GET /{quote('١٠٠')}/touchpoints HTTP/1.1".encode())
        assert status == 404
        assert json.loads(answer) == {"error": "no such endpoint: GET /١٠٠/touchpoints"}
        fault = server.add_fault(path="/100/*", status=503)
        status, _, answer = _raw(server, b"GET /%31%30%30/touchpoints HTTP/1.1")  # percent-encoded ASCII: account 100
        assert status == 503
        assert json.loads(answer) == {"error": f"Injected fault {fault['id']}: HTTP 503"}
    finally:
        server.clear_faults()
        server.clear_rate_limit()
    paths = [entry["path"] for entry in server.requests()]
    assert paths == ["/١٠٠/touchpoints", "/100/touchpoints"]
    assert [e["path"] for e in server.requests(path="/١٠٠/*")] == ["/١٠٠/touchpoints"]


def test_dot_segments_do_not_reach_another_account(server):
    other = "Basic " + __import__("base64").b64encode(b"other-public-key:other-private-key").decode()
    status, _, body = _raw(server, b"GET /101/../100/touchpoints HTTP/1.1", f"Authorization: {other}\r\n".encode())
    assert status == 404, body
    assert b"visited_website" not in body


def test_a_write_to_an_account_that_does_not_exist_is_404_with_auth_off_and_refused_by_the_store():
    app = create_app(Config(auth=False))
    client = app.test_client()
    before = client.get("/__admin/state").get_json()
    for path, body in (("/999/touchpoints", {"type_name": "x", "display_name": "X"}),
                       ("/999/members/add", {"email": "a@example.com"}),
                       ("/999/touchpoints/members", {"touchpoints": [{"member_id": 444, "touchpoint_type_id": 300}]}),
                       ("/0/touchpoints", {"type_name": "x", "display_name": "X"})):
        refused = client.post(path, json=body)
        assert (refused.status_code, refused.json) == (404, {"error": f"no account {path.split('/')[1]}"}), path
    assert client.get("/__admin/state").get_json() == before
    store = app.extensions["emma_mock"].store
    with pytest.raises(NotFound):
        store.create_touchpoint_type(999, "x", "X")
    with pytest.raises(NotFound):
        store.add_member(999, "a@example.com", {})
    assert client.put("/__admin/state", json=before).status_code == 200  # the state still loads


def test_every_route_reads_ids_with_our_converter(app):
    for rule in app.url_map.iter_rules():
        for name, converter in (rule._converters or {}).items():
            assert not isinstance(converter, NumberConverter), f"{rule.rule}: {name} uses werkzeug's int"


def test_ids_in_fixtures_fit_in_a_path(app):
    client = app.test_client()
    state = client.get("/__admin/state").get_json()
    state["members"][0]["member_id"] = 10**18
    response = client.put("/__admin/state", json=state)
    assert response.status_code == 400 and "member_id" in response.get_json()["error"]


# --- linear validation ------------------------------------------------------------------------------

BAD_EMAIL = {"error": "'email' is required and must be a valid email address of at most 254 characters"}
PATHOLOGICAL_EMAILS = ["a@" + "." * 300_000 + "@", "@" * 300_000, "a@" + "a." * 150_000 + " ",
                       "a" * 300_000 + "@b.c"]


@pytest.mark.parametrize("email", PATHOLOGICAL_EMAILS, ids=lambda e: e[:6])
def test_a_pathological_email_is_refused_within_a_second(app, email):
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = AUTH
    started = time.perf_counter()
    response = client.post("/100/members/add", json={"email": email})
    assert time.perf_counter() - started < 1.0
    assert response.status_code == 400
    assert len(response.get_data()) < 500
    assert response.json == BAD_EMAIL


def test_ordinary_emails_are_still_accepted(app):
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = AUTH
    for email in ("x@example.com", "first.last+tag@mail.example.co.uk", "ünï@exämple.de"):
        added = client.post("/100/members/add", json={"email": email})
        assert added.status_code == 200, email
        assert added.json == {"member_id": added.json["member_id"], "added": True, "status": "a"}, email
        assert client.get(f"/100/members/{added.json['member_id']}").json["email"] == email
    for email in ("x@example", "x@.com", "x@com.", "x y@example.com", "x@@example.com", "@example.com"):
        refused = client.post("/100/members/add", json={"email": email})
        assert (refused.status_code, refused.json) == (400, BAD_EMAIL), email


def test_a_pathological_date_is_refused_quickly_with_a_short_message(app):
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = AUTH
    date = "2025-01-01T00:00:00." + "0" * 300_000 + "x"
    started = time.perf_counter()
    response = client.post("/100/touchpoints/members", json={"touchpoints": [
        {"member_id": 444, "touchpoint_type_id": 300, "touchpoint_timestamp": date}]})
    assert time.perf_counter() - started < 1.0
    assert response.status_code == 400 and len(response.get_data()) < 500
    error = response.json["error"]  # names the field and the formats, and quotes the value cut short
    assert error.startswith("touchpoints[0].touchpoint_timestamp: '2025-01-01T00:00:00.000") and "is not a date" in error
    assert "@D:YYYY-MM-DDTHH:MM:SS" in error and "ISO 8601" in error


def test_hostile_globs_match_long_paths_in_linear_time():
    path = "/" + "a" * 200_000
    started = time.perf_counter()
    for glob in ("*" + "a" * 250 + "b*", "*a" * 120 + "*b", "*" + "a?" * 120 + "*b", "?" * 250 + "*b"):
        assert not glob_matches(path, glob)
    assert time.perf_counter() - started < 0.5


def test_a_hostile_journal_filter_over_long_paths_answers_within_a_second(app):
    client = app.test_client()
    for _ in range(20):
        client.get("/" + "a" * 100_000)
    started = time.perf_counter()
    response = client.get("/__admin/requests", query_string={"path": "*" + "a" * 250 + "b*"})
    assert time.perf_counter() - started < 1.0
    assert response.status_code == 200 and response.get_json() == []
    refused = client.get("/__admin/requests", query_string={"path": "*" * 257})
    assert (refused.status_code, refused.json) == (
        400, {"error": "query parameter 'path' must be a path or glob of at most 256 characters"})


# --- HEAD answers carry no body --------------------------------------------------------------------

def _exchange(sock: socket.socket, request: bytes, head: bool) -> tuple[int, dict, bytes]:
    """Send one request on a kept-alive connection and read exactly one answer."""
    sock.sendall(request)
    return read_answer(sock, head)


def test_head_answers_from_every_layer_carry_no_body_on_a_kept_alive_connection(server):
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    server.add_fault(path="/101/members*", status=418)
    try:
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            heads = [(b"HEAD /100/touchpoints HTTP/1.1\r\nHost: x\r\n\r\n", 401),       # authentication
                     (b"HEAD /101/members HTTP/1.1\r\nHost: x\r\n\r\n", 418),           # a fault
                     (b"HEAD /nowhere HTTP/1.1\r\nHost: x\r\n\r\n", 404),               # Flask
                     (b"HEAD /__admin/health HTTP/1.1\r\nHost: x\r\n\r\n", 200)]        # admin
            for request, expected in heads:
                status, _, _ = _exchange(sock, request, head=True)
                assert status == expected, request
                # the next answer on the same connection must parse: no stray body bytes before it
                status, _headers, body = _exchange(sock, b"GET /__admin/health HTTP/1.1\r\nHost: x\r\n\r\n", False)
                assert status == 200 and json.loads(body) == {"status": "ok"}, (request, body)
    finally:
        server.clear_faults()


def test_head_past_the_rate_limit_carries_no_body(server):
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    server.set_rate_limit(1, 3600)
    try:
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            auth = f"Authorization: {AUTH}\r\n".encode()
            for expected in (200, 403):
                status, _headers, _ = _exchange(sock, b"HEAD /100/members HTTP/1.1\r\nHost: x\r\n" + auth + b"\r\n",
                                               head=True)
                assert status == expected
            status, _, body = _exchange(sock, b"GET /__admin/health HTTP/1.1\r\nHost: x\r\n\r\n", False)
            assert status == 200 and json.loads(body) == {"status": "ok"}
    finally:
        server.clear_rate_limit()


@pytest.mark.parametrize("request_bytes, expected", [
    (b"HEAD /100/touchpoints HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),  # bad chunk
    (b"HEAD /100/touchpoints HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 300_000 + b"\r\n\r\n", 431),    # headers
    (b"HEAD /100/touchpoints HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n", 413),     # body cap
    (b" HEAD /100/touchpoints HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),  # waitress
    (b"\t\r\nHEAD /100/touchpoints HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n", 413),  # skips these
])
def test_head_answers_the_server_gives_itself_carry_no_body(server, request_bytes, expected):
    """Requests the HTTP server refuses before the app sees them: for HEAD, the JSON error is not sent either."""
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request_bytes)
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except ConnectionResetError:
            pass  # it may close before reading all we sent: what came before the reset is the answer
    head, _, rest = received.partition(b"\r\n\r\n")
    assert head.split(b" ", 2)[1] == str(expected).encode(), head
    assert rest == b"", rest


def test_a_lower_case_head_is_no_head_and_its_error_keeps_its_body(server):
    """waitress reads methods case-sensitively: `head` is a malformed request, answered in full."""
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"head /100/touchpoints HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")))
    assert length > 0 and len(body) == length and json.loads(body)["error"]


# --- fault globs ----------------------------------------------------------------------------------

def test_a_fault_on_every_path_is_allowed_and_fires(app):
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = AUTH
    response = client.post("/__admin/faults", json={"path": "*", "status": 503})
    assert response.status_code == 200, response.get_data()
    fired = {"error": f"Injected fault {response.json['id']}: HTTP 503"}
    for path in ("/100/touchpoints", "/101/members"):
        answer = client.get(path)
        assert (answer.status_code, answer.json) == (503, fired), path
    health = client.get("/__admin/health")
    assert (health.status_code, health.json) == (200, {"status": "ok"})  # faults apply to API paths only


# --- lone surrogates ----------------------------------------------------------------------------------

def test_a_lone_surrogate_in_an_uploaded_key_is_refused_and_breaks_nothing_later(app):
    client = app.test_client()
    state = client.get("/__admin/state").get_json()
    state["accounts"][0]["private_key"] = "\ud800"
    body = json.dumps(state).encode()  # ensure_ascii: the surrogate travels as the escape \ud800
    assert b"\\ud800" in body
    response = client.put("/__admin/state", data=body)
    assert response.status_code == 400
    assert "accounts[0].private_key" in response.get_json()["error"]
    # the upload changed no key: the right one still opens the account, the wrong one still does not
    good = client.get("/100/touchpoints", headers={"Authorization": AUTH})
    assert good.status_code == 200 and [t["touchpoint_type_id"] for t in good.json] == [300, 200]
    wrong = client.get("/100/touchpoints", headers={"Authorization": basic("demo-public-key", "wrong")["Authorization"]})
    assert wrong.status_code == 401
    assert wrong.json == {"error": "unknown API keys: check the public and private key"}
    assert client.get("/__admin/state").status_code == 200


@pytest.mark.parametrize("path, body", [
    ("/100/touchpoints", b'{"type_name": "\\udfff", "display_name": "X"}'),
    ("/100/members/add", b'{"email": "x@example.com", "fields": {"\\ud800": 1}}'),
    ("/100/touchpoints/members", b'{"touchpoints": [{"member_id": 444, "touchpoint_type_id": 300, '
                                 b'"attributes": {"s": "a\\ud83d"}}]}'),
    ("/__admin/faults", b'{"status": 500, "body": {"error": "\\udc00"}}'),
])
def test_a_lone_surrogate_anywhere_in_a_body_is_400_naming_where(app, path, body):
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = AUTH
    response = client.post(path, data=body)
    assert response.status_code == 400, response.get_data()
    assert "surrogate" in response.get_json()["error"]


def test_a_body_in_utf16_is_not_taken_for_json(app):
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = AUTH
    body = '{"type_name": "x", "display_name": "X"}'.encode("utf-16")
    refused = client.post("/100/touchpoints", data=body)
    assert (refused.status_code, refused.json) == (400, {"error": "request body is not UTF-8 encoded JSON"})


@pytest.mark.parametrize("status", [204, 304])
def test_a_fault_answering_204_or_304_sends_no_body_and_the_journal_says_so(status):
    with MockServer() as server:
        server.add_fault(path="/100/touchpoints", status=status, times=1)
        port = int(server.url.rsplit(":", 1)[1])
        request = f"GET /100/touchpoints HTTP/1.1\r\nHost: x\r\nAuthorization: {AUTH}\r\n\r\n".encode()
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(request)
            answer, headers, body = read_answer(sock, head=True)
            assert sock.recv(65536) == b""  # waitress closes after these (and says so): nothing else came
        assert (answer, body, headers.get("connection")) == (status, b"", "close")
        (entry,) = server.requests()
        assert entry["response_body"] is None and "Content-Length" not in entry["response_headers"]


@pytest.mark.parametrize("path, body", [
    ("/100/touchpoints/members", {"touchpoints": [{"member_id": 444, "type_name": "x" * 1_000_000}]}),
    ("/100/touchpoints/members", {"touchpoints": [{"email": "y" * 1_000_000 + "@example.com", "type_name": "t"}]}),
    ("/__admin/faults", {"z" * 1_000_000: 1, "status": 500}),
    ("/__admin/state", {"accounts": [{"account_id": 1, "public_key": "p", "private_key": "s", "w" * 1_000_000: 1}]}),
])
def test_an_error_never_echoes_a_huge_client_value(client, path, body):
    method = client.put if path == "/__admin/state" else client.post
    answer = method(path, json=body)
    assert answer.status_code == 400 and len(answer.data) < 2000, answer.data[:300]
