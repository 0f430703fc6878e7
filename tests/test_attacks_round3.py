"""Attacks, round three: a hostile "real API" against capture and verify, and what the session export,
the Host rules and the dashboard's copies make of what a client sends."""
from __future__ import annotations

import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import browser_pages
import pytest
import requests
from browser_pages import PASTE_ACTS_ON, open_newest_entry, run_pasted
from standins import LocalServer

from mockserver.contract import capture, cli
from mockserver.testing import MockServer

from helpers import raw_request, replay

server, tab, page, stub = browser_pages.server, browser_pages.tab, browser_pages.page, browser_pages.stub  # fixtures

ACCOUNT = 2001
KEYS = ("hostile-test-public", "hostile-test-private")


class HostileApi(LocalServer):
    """A "real API" on 127.0.0.1 answering every GET with `answer(handler)`; counts what it wrote."""

    def __init__(self) -> None:
        self.answer: Any = None
        self.written = 0
        self.requests = 0
        hostile = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                hostile.requests += 1
                hostile.answer(self)

            def send_json(self, body: bytes, status: int = 200) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        super().__init__(Handler)
        self.server.hostile = self  # type: ignore[attr-defined]  # how an answer reaches its counters
        self.url += f"/{ACCOUNT}"  # the account's API base, as capture and verify take it


@pytest.fixture
def hostile() -> Iterator[HostileApi]:
    api = HostileApi()
    yield api
    api.close()


def run(command: str, url: str, *args: str, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    """`emma-mock capture|verify URL ARGS` in this process: (exit status, stdout + stderr)."""
    monkeypatch.setenv("EMMA_PUBLIC_KEY", KEYS[0])
    monkeypatch.setenv("EMMA_PRIVATE_KEY", KEYS[1])
    status = cli.main([command, url, *args])
    out = capsys.readouterr()
    text = out.out + out.err
    assert "Traceback" not in text
    assert all(key not in text for key in KEYS)
    return status, text


ENDLESS_CAP = 200 * 2**20  # what the hostile server sends at most before it gives up


def endless_body(handler: Any) -> None:
    """A JSON list that never ends (chunked), as long as the client reads."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Transfer-Encoding", "chunked")
    handler.end_headers()
    chunk = b'"' + b"a" * (1024 * 1024) + b'",'
    frame = b"%x\r\n%s\r\n" % (len(chunk), chunk)
    api = handler.server.hostile
    try:
        handler.wfile.write(b"1\r\n[\r\n")
        while api.written < ENDLESS_CAP:
            handler.wfile.write(frame)
            api.written += len(chunk)
    except OSError:
        pass  # the client stopped reading: what a bounded client does


@pytest.mark.parametrize("command", ["capture", "verify"])
def test_an_endless_answer_is_not_read_into_memory(hostile: HostileApi, tmp_path: Any, command: str,
                                                   capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch):
    hostile.answer = endless_body
    args = ["-o", str(tmp_path / "c.json")] if command == "capture" else []
    status, text = run(command, hostile.url, *args, capsys=capsys, monkeypatch=monkeypatch)
    assert hostile.written < 64 * 2**20, "the client read on past its cap"
    assert "answered 200 with a body over 32 MiB" in text
    assert status == 2  # nothing that answers like the API: it cannot run
    assert not (tmp_path / "c.json").exists()


@pytest.mark.parametrize("command", ["capture", "verify"])
def test_json_nested_past_the_parser_is_an_answer_that_is_not_json(hostile: HostileApi, tmp_path: Any, command: str,
                                                                   capsys: pytest.CaptureFixture[str],
                                                                   monkeypatch: pytest.MonkeyPatch):
    hostile.answer = lambda handler: handler.send_json(b"[" * 100_000 + b"]" * 100_000)
    args = ["-o", str(tmp_path / "c.json")] if command == "capture" else []
    status, text = run(command, hostile.url, *args, capsys=capsys, monkeypatch=monkeypatch)
    assert status == 2
    assert "/touchpoints?count=true: answered 200 with a body that is not JSON" in text


def test_a_list_without_end_stops_at_the_capture_limit(hostile: HostileApi, tmp_path: Any,
                                                       capsys: pytest.CaptureFixture[str],
                                                       monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(capture, "MAX_LIST_ITEMS", 2_000)
    served = iter(range(1, 10**6))

    def full_pages(handler: Any) -> None:  # `count` is unreadable, and every page is full of new types
        if "count=true" in handler.path:
            return handler.send_json(b"null")
        if hostile.requests > 100:  # (the hostile server's own bound: 50,000 types)
            return handler.send_json(b"[]")
        page = [{"touchpoint_type_id": (n := next(served)), "type_name": f"t{n}", "display_name": "T",
                 "created_at": "@D:2025-01-01T00:00:00"} for _ in range(500)]
        handler.send_json(json.dumps(page).encode())

    hostile.answer = full_pages
    status, text = run("capture", hostile.url, "-o", str(tmp_path / "c.json"), capsys=capsys,
                       monkeypatch=monkeypatch)
    assert status == 1
    assert f"GET {hostile.url}/touchpoints: the list goes on past 2000 items" in text
    assert hostile.requests <= 2_000 // 500 + 3
    assert not (tmp_path / "c.json").exists()


# --- the dashboard's curl lines, pasted into a terminal ---------------------------------------


def test_a_copied_curl_line_holds_nothing_a_terminal_acts_on_when_pasted(page, server, stub):
    """A body with Ctrl-U erases, in a line editor, the `curl ... '` typed before it, so what follows runs
    as a command outside the quotes; an ESC ends a bracketed paste (`ESC [201~`). Such a body is piped in
    as printf escapes, and the line still sends exactly its bytes."""
    body = "\x15touch pwned #\x1b[201~\r\t\x7f\u009b2J".encode()
    raw_request(server.url, b"POST /100/touchpoints HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: "
                + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
    entry = open_newest_entry(page)
    line = entry.locator("pre.curl").get_attribute("data-curl")
    assert line is not None
    assert not PASTE_ACTS_ON.search(line), repr(line)
    argv, stdin = run_pasted(line, stub)
    assert b"--data-binary" in argv
    assert stdin == body


# --- the session export, run as a user runs it ----------------------------------------------


def test_the_export_replays_paths_whose_decoded_form_a_client_library_would_change(tmp_path: Path):
    """The journal holds the decoded path: `%2e%2e` came as `..` (which requests would resolve away),
    `%3F` as `?` (which would start a query), `%2541` as `%41` (which would be decoded once more)."""
    targets = [b"/100/touchpoints/%2e%2e/members", b"/100/touchpoints/./300", b"/100/members/email/ann%3Fx@example.com",
               b"/100/members/email/a%2541b", b"/100/touchpoints/%2E/300/"]
    with MockServer() as server:
        requests.post(f"{server.base_url}/members/add", auth=server.auth, timeout=5,
                      json={"email": "ann?x@example.com"})
        for target in targets:
            raw_request(server.url, b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic "
                        b"ZGVtby1wdWJsaWMta2V5OmRlbW8tcHJpdmF0ZS1rZXk=\r\nConnection: close\r\n\r\n")
        module = requests.get(f"{server.url}/__admin/requests/export", timeout=5).text
        statuses = [entry["status"] for entry in server.requests()]
    assert statuses[3] == 200  # the member with a `?` in its email: a replay to another path gets a 404
    ran = replay(tmp_path, {"test_exported.py": module})
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "1 passed" in ran.stdout


@pytest.mark.parametrize("target", ["http://evil.example/__admin/state", "HTTP://rebind.test:8080/100/touchpoints",
                                    "https://evil.example/__admin/reset"])
def test_an_absolute_form_target_names_the_host_and_is_held_to_the_host_rule(target):
    """RFC 9112: a target in absolute form names the host, whatever Host says."""
    with MockServer() as server:
        port = server.url.rsplit(":", 1)[1]
        request = f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode()
        status, _, body = raw_request(server.url, request)
        assert status == 403, body[:300]
        assert "--allowed-hosts" in json.loads(body)["error"]
        own = f"GET http://127.0.0.1:{port}/__admin/health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
        status, _, body = raw_request(server.url, own)  # an absolute target naming the mock itself is answered
        assert (status, json.loads(body)) == (200, {"status": "ok"})
