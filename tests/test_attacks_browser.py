"""Attacks from web pages (SPEC §6, "Browsers") and overlong request targets (SPEC §1), sent as the
attacker sends them: a real browser for cross-origin pages and DNS rebinding, raw sockets for forged
Host and Origin headers a client library would tidy.

The browser tests need Debian's Chromium (see test_dashboard_browser.py); a rebinding name is
simulated with Chromium's resolver rules: `rebind.test` resolves to 127.0.0.1, as it would once the
attacker's DNS answered so.
"""
from __future__ import annotations

import json
import subprocess
import time

import browser_pages
import pytest

from mockserver.testing import MockServer

from helpers import DEMO_AUTH, MOCKSERVER, REPO, CLIServer, basic, cli_env, launched_chromium, raw_request, run_cli

AUTH = basic(*DEMO_AUTH)["Authorization"]
NEW_TYPE = b'{"type_name": "planted", "display_name": "Planted"}'


server = browser_pages.server  # the fixture, for this module


@pytest.fixture
def mock(server):
    server.reset()
    yield server
    server.reset()


def _send(server: MockServer | CLIServer, method: str, path: str, headers: dict[str, str], body: bytes = b"",
          version: str = "HTTP/1.1") -> tuple[int, dict[str, str], dict]:
    """One request with exactly these headers (no Host unless given), its answer parsed."""
    lines = [f"{method} {path} {version}", *(f"{name}: {value}" for name, value in headers.items()),
             f"Content-Length: {len(body)}", "Connection: close", "", ""]
    status, answer_headers, answer = raw_request(server.url, "\r\n".join(lines).encode("latin-1") + body)
    assert answer_headers.get("content-type") == "application/json", answer[:200]
    assert not any(name.startswith("access-control-") for name in answer_headers), answer_headers
    return status, answer_headers, json.loads(answer) if answer else None


def _planted(server: MockServer) -> bool:
    return any(t["type_name"] == "planted" for t in server.state()["touchpoint_types"])


# --- Host names that a web page could rebind ------------------------------------------------------

REBINDABLE = ["rebind.test", "rebind.test:8080", "REBIND.test", "evil.example.", "127.0.0.1.nip.io",
              "localhost.evil.example", "emma-mock.", "[::1", "localhost:port", "127.0.0.1, evil.example",
              "xn--80ak6aa92e.com"]


@pytest.mark.parametrize("host", REBINDABLE)
@pytest.mark.parametrize("method, path", [("GET", "/__admin/state"), ("PUT", "/__admin/state"),
                                          ("POST", "/__admin/reset"), ("GET", "/100/touchpoints"),
                                          ("GET", "/")])
def test_a_host_name_a_page_could_rebind_is_refused_everywhere(mock, host, method, path):
    mock.add_fault(path="*", status=418)  # a fault would answer an API path first, were the Host not refused
    body = b'{"accounts": []}' if method == "PUT" else b""
    status, _, answer = _send(mock, method, path, {"Host": host, "Authorization": AUTH}, body)
    assert status == 403
    assert "--allowed-hosts" in answer["error"] and "MOCKSERVER_ALLOWED_HOSTS" in answer["error"]
    assert mock.state()["accounts"] and mock.requests() == []  # nothing replaced, nothing journaled


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.1:8080", "127.0.0.1.", "10.1.2.3:80", "[::1]", "[::1]:8080",
                                  "localhost", "LOCALHOST:8080", "localhost.", "mock.localhost:9", "emma-mock",
                                  "emma-mock:8080", "Emma-Mock"])
def test_names_no_page_can_rebind_are_answered(mock, host):
    status, _, answer = _send(mock, "GET", "/100/touchpoints/300", {"Host": host, "Authorization": AUTH})
    assert status == 200 and answer["type_name"] == "visited_website"


def test_a_request_without_a_host_is_answered(mock):
    """HTTP/1.0 clients may send no Host; no browser does."""
    status, _, answer = _send(mock, "GET", "/__admin/health", {}, version="HTTP/1.0")
    assert status == 200 and answer == {"status": "ok"}


def test_allowed_hosts_answers_those_names_and_only_them():
    with MockServer(allowed_hosts="Mock.Example.test, other.test.") as server:
        for host in ("mock.example.test", "MOCK.example.test:8080", "other.test", "other.test.:1"):
            status, _, answer = _send(server, "GET", "/__admin/health", {"Host": host})
            assert (status, answer) == (200, {"status": "ok"}), host
        status, _, answer = _send(server, "GET", "/__admin/health", {"Host": "sub.mock.example.test"})
        assert status == 403 and "'sub.mock.example.test'" in answer["error"]
    with MockServer(allowed_hosts=["*"]) as server:
        status, _, answer = _send(server, "GET", "/__admin/health", {"Host": "anything.example"})
        assert (status, answer) == (200, {"status": "ok"})


def test_allowed_hosts_from_the_environment_and_bad_values():
    with CLIServer(env={"MOCKSERVER_ALLOWED_HOSTS": "mock.example.test"}) as cli:
        status, _, answer = _send(cli, "GET", "/__admin/health", {"Host": "mock.example.test:8080"})
        assert (status, answer) == (200, {"status": "ok"})
        status, _, answer = _send(cli, "GET", "/__admin/health", {"Host": "other.example.test"})
        assert status == 403 and "--allowed-hosts 'other.example.test'" in answer["error"]
    refused = run_cli("--allowed-hosts", "http://mock.example.test/")
    assert refused.returncode == 2 and b"--allowed-hosts" in refused.stderr and b"no scheme" in refused.stderr


# --- writes from another origin ----------------------------------------------------------------------

CROSS = [{"Origin": "http://evil.example"}, {"Origin": "null"}, {"Origin": "http://127.0.0.1:1"},
         {"Origin": "https://127.0.0.1"}, {"Origin": "file://"}, {"Sec-Fetch-Site": "cross-site"},
         {"Origin": "http://localhost:{port}"}]  # a name this server also answers, but another origin


@pytest.mark.parametrize("cross", CROSS)
@pytest.mark.parametrize("method, path, body", [
    ("POST", "/__admin/reset", b""),
    ("POST", "/__admin/faults", b'{"status": 503}'),
    ("PUT", "/__admin/state", b'{"accounts": []}'),
    ("DELETE", "/__admin/requests", b""),
    ("POST", "/100/touchpoints", NEW_TYPE),
    ("PATCH", "/100/touchpoints", NEW_TYPE)])
def test_a_write_from_another_origin_is_refused_on_the_api_and_the_control_api(mock, cross, method, path, body):
    mock.session.get(mock.url + "/100/touchpoints")  # a journal entry a DELETE would clear
    port = mock.url.rsplit(":", 1)[1]
    headers = {"Host": f"127.0.0.1:{port}", "Authorization": AUTH,
               **{name: value.format(port=port) for name, value in cross.items()}}
    status, _, answer = _send(mock, method, path, headers, body)
    assert status == 403
    assert "another origin" in answer["error"] and "GET, HEAD and OPTIONS" in answer["error"]
    assert mock.faults() == [] and len(mock.requests()) == 1 and not _planted(mock)
    assert mock.state()["accounts"]


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS"])
def test_reads_from_another_origin_are_answered_without_cors_headers(mock, method):
    port = mock.url.rsplit(":", 1)[1]
    status, _, answer = _send(mock, method, "/__admin/health",
                              {"Host": f"127.0.0.1:{port}", "Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"})
    assert status == (405 if method == "OPTIONS" else 200)  # OPTIONS: no preflight is ever granted
    assert answer == {"GET": {"status": "ok"}, "HEAD": None,  # a HEAD answer has no body
                      "OPTIONS": {"error": "OPTIONS is not allowed on /__admin/health; allowed: GET, HEAD"}}[method]


@pytest.mark.parametrize("origin", ["http://127.0.0.1:{port}", "HTTP://127.0.0.1:{port}", None])
def test_a_write_from_this_servers_own_origin_or_from_no_browser_is_answered(mock, origin):
    port = mock.url.rsplit(":", 1)[1]
    headers = {"Host": f"127.0.0.1:{port}", "Authorization": AUTH, "Sec-Fetch-Site": "same-origin"}
    if origin is not None:
        headers["Origin"] = origin.format(port=port)
    status, _, answer = _send(mock, "POST", "/100/touchpoints", headers, NEW_TYPE)
    assert status == 200 and answer["type_name"] == "planted"


def test_own_origin_on_the_default_port_and_a_service_name():
    for host, origin in [("emma-mock", "http://emma-mock"), ("emma-mock:80", "http://emma-mock"),
                         ("emma-mock", "https://emma-mock"), ("[::1]:8080", "http://[::1]:8080")]:
        with MockServer() as server:
            status, _, answer = _send(server, "POST", "/__admin/reset", {"Host": host, "Origin": origin})
            assert (status, answer) == (200, {"status": "reset"}), (host, origin)


# --- request targets over 8 KiB ----------------------------------------------------------------------

@pytest.mark.parametrize("length", [8 * 1024 + 1, 100_000, 300_000])  # 300 KB: past waitress's own header limit
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_request_target_over_8_kib_is_a_414_before_any_matching(mock, length, method):
    mock.add_fault(path="*", status=418)
    path = "/100/touchpoints?q=" + "a" * (length - len("/100/touchpoints?q="))
    status, headers, answer = raw_request(
        mock.url, f"{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    assert status == 414 and headers["content-type"] == "application/json"
    if method == "GET":
        assert "8192 bytes" in json.loads(answer)["error"]
    else:
        assert answer == b""
    assert mock.requests() == [] and mock.faults()[0]["matched"] == 0


def test_a_request_target_of_8_kib_is_served(mock):
    path = "/100/touchpoints?q=" + "a" * (8 * 1024 - len("/100/touchpoints?q="))
    status, _, body = raw_request(mock.url, f"GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: {AUTH}\r\n"
                                            "Connection: close\r\n\r\n".encode())
    assert status == 200 and len(json.loads(body)) == 2


# --- a real browser on another origin -----------------------------------------------------------------

ATTACK_PAGE = """<!doctype html><html><body>
<form id="reset" method="POST" action="{mock}/__admin/reset" target="sink"></form>
<iframe name="sink"></iframe>
<script>
  fetch("{mock}/__admin/faults", {{method: "POST", mode: "no-cors", body: '{{"status": 503}}'}})
    .finally(() => fetch("{mock}/100/touchpoints", {{method: "POST", mode: "no-cors",
                                                     headers: {{"Authorization": "{auth}"}},
                                                     body: '{new_type}'}}))
    .finally(() => {{ document.getElementById("reset").submit(); document.title = "sent"; }});
</script></body></html>"""

# Chromium's own check on public pages calling loopback addresses, off: Firefox and Safari have none,
# and a page on another local port (a dev server, a page opened from disk) is not covered by it.
LOCAL_NETWORK_CHECKS = ("LocalNetworkAccessChecks", "BlockInsecurePrivateNetworkRequests",
                        "PrivateNetworkAccessSendPreflights", "PrivateNetworkAccessRespectPreflightResults")

REBIND_PAGE = """<!doctype html><html><body><script>
  fetch("/__admin/state").then(r => r.text().then(t => document.title = r.status + " " + t))
    .catch(e => document.title = "failed " + e);
</script></body></html>"""


@pytest.fixture(scope="module")
def browser(playwright):
    yield from launched_chromium(playwright, "--host-resolver-rules=MAP rebind.test 127.0.0.1",
                                 "--disable-features=" + ",".join(LOCAL_NETWORK_CHECKS))


def _serve_page(page, url: str, html: str) -> None:
    """The attacker's page at `url`, as the attacker's own server would send it."""
    page.route(url, lambda route: route.fulfill(status=200, content_type="text/html", body=html))
    page.goto(url)


def _wait_for_mock(mock: MockServer, seen: int) -> None:
    """Until the mock has answered `seen` more requests than it had (the page's requests arrived)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and mock._mock.journal.latest_id < seen:
        time.sleep(0.05)


@pytest.mark.parametrize("attacker", ["http://attacker.test/", "http://127.0.0.1:{other}/"])
def test_a_page_on_another_origin_cannot_reset_add_faults_or_write(browser, mock, attacker):
    assert mock.session.post(mock.url + "/100/touchpoints", data=NEW_TYPE).status_code == 200  # a test's own write
    port = int(mock.url.rsplit(":", 1)[1])
    context = browser.new_context()
    page = context.new_page()
    answered = []
    page.on("response", lambda r: answered.append((r.request.method, r.url, r.status)) if r.url.startswith(mock.url)
            else None)
    try:
        html = ATTACK_PAGE.format(mock=mock.url, auth=AUTH, new_type=NEW_TYPE.decode().replace('"', '\\"'))
        _serve_page(page, attacker.format(other=port + 1 if port < 65535 else port - 1), html)
        page.wait_for_function("document.title === 'sent'", timeout=10_000)
        page.wait_for_load_state("load")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(answered) < 3:
            page.wait_for_timeout(50)
    finally:
        context.close()
    # Status only, deliberately: Chromium keeps no body of a no-cors answer (nor of the form's, once its frame
    # navigates), so there is none to read here; the refusal's body is asserted for the same requests sent raw
    # in test_a_write_from_another_origin_is_refused_on_the_api_and_the_control_api.
    assert sorted(status for _, _, status in answered) == [403, 403, 403], answered  # the mock saw all three
    assert mock.faults() == []
    types = [t["type_name"] for t in mock.state()["touchpoint_types"]]
    assert types.count("planted") == 1  # the page's reset did not run, nor did its write add another


def test_a_rebinding_page_cannot_read_or_replace_the_state(browser, mock):
    port = int(mock.url.rsplit(":", 1)[1])
    context = browser.new_context()
    page = context.new_page()
    try:
        _serve_page(page, f"http://rebind.test:{port}/attack.html", REBIND_PAGE)
        page.wait_for_function("document.title !== ''", timeout=10_000)
        title = page.title()
        put = page.evaluate("""() => fetch("/__admin/state", {method: "PUT", body: '{"accounts": []}'})
                                      .then(r => r.status)""")
    finally:
        context.close()
    status, _, text = title.partition(" ")
    assert status == "403" and "demo-private-key" not in text and "--allowed-hosts" in json.loads(text)["error"]
    assert put == 403 and mock.state()["accounts"]


# --- text a client or a fixture controls, printed to a terminal --------------------------------------

TERMINAL_CONTROLS = ["\x1b", "\x9b", "\x07", "\x7f", "\r", "\u202e", "\u2028", "\x85"]
FORGED = "\x1b[2J\x1b[H\x9b2J\r\u202eemma-mock 9.9 serving on http://evil.example\u2028\x85\x07\x7f"


def _terminal_text_is_inert(text: str) -> None:
    assert not [char for char in TERMINAL_CONTROLS if char in text], ascii(text[:300])


def test_fixture_keys_cannot_drive_the_terminal_through_the_banner_or_its_error(tmp_path):
    fixture = json.loads((REPO / "fixtures" / "default.json").read_text())
    fixture["accounts"][0]["public_key"] = "k" + FORGED
    fixture["accounts"][0]["private_key"] = "p\nemma-mock: forged line" + FORGED
    fixture["accounts"][0]["name"] = FORGED
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(fixture))
    process = subprocess.Popen([*MOCKSERVER, "--port", "0", "--fixtures", str(path)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cli_env(), cwd=str(REPO))
    try:
        printed = b""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and b"control:" not in printed and process.poll() is None:
            printed += process.stdout.read1(65536)
    finally:
        process.terminate()
        out, err = process.communicate(timeout=30)
    text = (printed + out + err).decode("utf-8", "replace")
    assert "control:" in text or "hostile.json" in text  # served (the banner) or refused (one line)
    _terminal_text_is_inert(text)
    assert "\nemma-mock: forged line" not in text


def test_a_method_or_path_cannot_drive_the_terminal_through_the_console_line():
    with CLIServer() as cli:
        for line in (f"GET /100/touchpoints{FORGED} HTTP/1.1".encode(), f"G{FORGED}T /100/x HTTP/1.1".encode(),
                     b"GET /100/x\x1b[2J?q=\x1b]0;title\x07 HTTP/1.1", "GET /100/\u202e HTTP/1.1".encode()):
            status, _, _ = raw_request(cli.url, line + b"\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert status < 500
        out, err = cli.stop()
    _terminal_text_is_inert(out + err)
