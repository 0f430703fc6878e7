"""`--server granian`: what differs from waitress, said and tested; the fallback when granian is missing.

The rest of the CLI's tests run on granian too (EMMA_MOCK_TEST_SERVER=granian, see .ci/run).
"""
from __future__ import annotations

import socket
import threading
import time

import pytest
import requests

from helpers import DEMO_AUTH, CLIServer

pytest.importorskip("granian")

AUTH_HEADER = b"Authorization: Basic ZGVtby1wdWJsaWMta2V5OmRlbW8tcHJpdmF0ZS1rZXk=\r\n"


@pytest.fixture(scope="module")
def granian():
    with CLIServer("--server", "granian") as server:
        yield server


def _server_line(server: CLIServer) -> str:
    """The banner's last line, which names the HTTP server."""
    line = ""
    while not line.startswith("  server:"):
        line = server.process.stdout.readline().decode()
        assert line, "the banner has no server line"
    return line


def _raw(url: str, payload: bytes, chunks: list[bytes] = ()) -> bytes:
    host, port = url.split("//")[1].rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(payload)
        for chunk in chunks:
            try:
                sock.sendall(chunk)
            except OSError:  # the server answered and closed before the rest: what a cap should do
                break
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.endswith(b"}"):
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    return answer


def test_the_banner_names_granian_and_the_api_answers(granian):
    assert "serving on http://127.0.0.1:" in granian.first_line
    assert _server_line(granian).startswith("  server:   granian")
    answer = requests.get(granian.url + "/100/touchpoints/300", auth=DEMO_AUTH, timeout=10)
    assert answer.status_code == 200 and answer.json()["touchpoint_type_id"] == 300


def test_a_drop_fault_answers_502_saying_which_server_can_drop(granian):
    requests.post(granian.url + "/__admin/faults", json={"action": "drop", "times": 1}, timeout=10)
    answer = requests.get(granian.url + "/100/touchpoints/300", auth=DEMO_AUTH, timeout=10)
    assert answer.status_code == 502 and "waitress" in answer.json()["error"]


def test_a_delay_fault_never_stalls_other_requests(granian):
    requests.post(granian.url + "/__admin/faults", json={"path": "/100/touchpoints/300", "delay_ms": 3000,
                                                         "times": 1}, timeout=10)
    slow = threading.Thread(target=requests.get, args=(granian.url + "/100/touchpoints/300",),
                            kwargs={"auth": DEMO_AUTH, "timeout": 30})
    slow.start()
    time.sleep(0.2)
    started = time.monotonic()
    assert requests.get(granian.url + "/100/touchpoints", auth=DEMO_AUTH, timeout=10).status_code == 200
    assert time.monotonic() - started < 2
    slow.join(30)


def test_a_chunked_body_is_read_and_capped_at_10_mib(granian):
    body = b'{"type_name": "chunked", "display_name": "C"}'
    head = b"POST /100/touchpoints HTTP/1.1\r\nHost: x\r\n" + AUTH_HEADER + b"Transfer-Encoding: chunked\r\n\r\n"
    answer = _raw(granian.url, head + b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
    assert answer.startswith(b"HTTP/1.1 200") and b'"type_name": "chunked"' in answer
    chunk = b"100000\r\n" + b" " * 0x100000 + b"\r\n"  # 1 MiB of JSON whitespace
    answer = _raw(granian.url, head, [chunk] * 11 + [b"0\r\n\r\n"])
    assert answer.startswith(b"HTTP/1.1 413") and b'"error"' in answer


def test_without_granian_the_cli_falls_back_to_waitress_and_says_so(tmp_path):
    (tmp_path / "granian").mkdir()
    (tmp_path / "granian" / "__init__.py").write_text("raise ImportError('no granian here')\n")
    with CLIServer("--server", "granian", env={"PYTHONPATH": str(tmp_path)}) as server:
        assert "waitress (asked for granian, but granian is not installed" in _server_line(server)
        assert requests.get(server.url + "/100/touchpoints/300", auth=DEMO_AUTH, timeout=10).status_code == 200


def test_the_process_environment_is_not_taken_for_request_headers():
    """granian puts the process's variables in each environ: HTTP_PROXY must not look like a `Proxy:` header."""
    with CLIServer("--server", "granian", "--quiet", env={"HTTP_PROXY": "http://proxy.invalid:3128"}) as server:
        requests.get(server.url + "/100/touchpoints", auth=DEMO_AUTH, timeout=10)
        (entry,) = requests.get(server.url + "/__admin/requests", timeout=10).json()
    assert "Proxy" not in entry["headers"] and "proxy.invalid" not in str(entry)
