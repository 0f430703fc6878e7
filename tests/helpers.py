"""Helpers shared by the tests: demo keys, CLI servers, raw HTTP, state invariants.

Everything here talks to 127.0.0.1 only.
"""
from __future__ import annotations

import base64
import json
import os
import select
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests
from readme_blocks import WITHOUT_OUR_TEST_PLUGINS

DEMO_AUTH = ("demo-public-key", "demo-private-key")
OTHER_AUTH = ("other-public-key", "other-private-key")
AUTH_REQUIRED = {"error": "authentication required: HTTP Basic with your public API key as the user name and "
                          "your private key as the password"}
ADMIN_TOKEN_REQUIRED = {"error": "the control API needs the admin token: send it as "
                                 "'X-Admin-Token' or 'Authorization: Bearer <token>'"}
RATE_LIMITED = {"error": "Rate Limit Exceeded"}


def basic(user: str, password: str) -> dict[str, str]:
    """An `Authorization: Basic ...` header for these keys."""
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}
REPO = Path(__file__).resolve().parent.parent
# The installed emma-mock, as `python -m mockserver` runs it. `-P`: not the source tree of the working
# directory, so every server the tests start runs the package the tests import (bytecode compiled at install).
MOCKSERVER = (sys.executable, "-P", "-m", "mockserver")
# Whether this run asked for the long variants (`-m slow` or EMMA_MOCK_SLOW=1): set by conftest.py's
# pytest_configure, before any test module is imported.
SLOW_ASKED = False
DEFAULT_FIXTURE = REPO / "fixtures" / "default.json"


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def strict_json(raw: bytes | str) -> Any:
    """Parse as RFC 8259 JSON: NaN, Infinity and numbers that overflow a double are refused."""
    def finite(text: str) -> float:
        value = float(text)
        if value in (float("inf"), float("-inf")):
            raise ValueError(f"{text} overflows a double")
        return value
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8")
    return json.loads(raw, parse_constant=_reject_constant, parse_float=finite)


def big_fixture(folder: Path, touchpoints: int = 1500) -> Path:
    """A fixture of account 100 with many touchpoints: past 1,000 its `--db` file logs writes ahead."""
    doc = {"accounts": [{"account_id": 100, "public_key": DEMO_AUTH[0], "private_key": DEMO_AUTH[1]}],
           "members": [{"account_id": 100, "member_id": 1, "email": "m@example.com"}],
           "touchpoint_types": [{"account_id": 100, "touchpoint_type_id": 1, "type_name": "t", "display_name": "T"}],
           "touchpoints": [{"account_id": 100, "touchpoint_id": i, "member_id": 1, "touchpoint_type_id": 1,
                            "touchpoint_timestamp": "@D:2025-01-01T00:00:00", "inserted_at": "@D:2025-01-01T00:00:00"}
                           for i in range(1, touchpoints + 1)]}
    path = folder / "big.json"
    path.write_text(json.dumps(doc))
    return path


def run_pytest(folder: Path, files: str | dict[str, str], *args: str, env: dict[str, str] | None = None,
               entry_point: bool = False) -> subprocess.CompletedProcess[str]:
    """Run pytest in `folder` on a user's test files (no conftest), as that user would: `files` is the
    source of `test_user.py` (dedented), or file names and their text.

    The environment is `cli_env(env)`. With `entry_point`, the installed plugins load as pytest finds
    them, emma-mock's by its entry point (but for this project's test-only ones, which a user's project
    lacks: readme_blocks); otherwise only emma-mock's plugin (and xdist when `-n` is given) loads, named
    with -p, as in a project that installs only emma-mock: the other plugins here (schemathesis,
    hypothesis, playwright) take seconds to load.
    """
    written = {"test_user.py": textwrap.dedent(files)} if isinstance(files, str) else files
    for name, text in written.items():
        (folder / name).write_text(text, encoding="utf-8")
    full_env = cli_env(env)
    plugins: list[str] = []
    if entry_point:
        full_env["PYTEST_ADDOPTS"] = WITHOUT_OUR_TEST_PLUGINS
    else:
        full_env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
        plugins = ["-p", "mockserver.testing.pytest_plugin", *(["-p", "xdist"] if "-n" in args else [])]
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *plugins, *args,
                           str(folder)], cwd=folder, capture_output=True, text=True, timeout=180, env=full_env)


def hold_delays(app: Any) -> tuple[threading.Event, threading.Event]:
    """A delay fault's wait in `app` (an app of create_app, called in process), held until the test lets it go:
    (held: set once a request waits, release: set it to let every waiting request go on)."""
    held, release = threading.Event(), threading.Event()

    def sleep(seconds: float) -> None:
        held.set()
        assert release.wait(10)

    app.wsgi_app.sleep = sleep
    return held, release


# --- a CLI server in a subprocess ---------------------------------------------------------

# emma-mock's settings, this suite's and pytest's (an xdist worker's among them): none of them reaches what
# a test starts as a user would start it
OUR_SETTINGS = ("MOCKSERVER_", "EMMA_MOCK_", "PYTEST_")


def cli_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a CLI or a user's pytest run under test: none of OUR_SETTINGS, then `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(OUR_SETTINGS)}
    env.update(extra or {})
    return env


class CLIServer:
    """`python -m mockserver --port 0 ...` in a subprocess; `url` from the first line it prints."""

    def __init__(self, *args: str, env: dict[str, str] | None = None, timeout: float = 30):
        full_env = cli_env(env)
        full_env["PYTHONUNBUFFERED"] = "1"
        self.args = [*MOCKSERVER, "--port", "0", *args]
        self.process = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        stdin=subprocess.DEVNULL, env=full_env, cwd=str(REPO))
        self.first_line = self._read_first_line(timeout)
        if "serving on " not in self.first_line:
            out, err = self.process.communicate(timeout=timeout)
            raise RuntimeError(f"server did not start: {self.first_line!r} {out!r} {err!r}")
        self.url = self.first_line.split("serving on ", 1)[1].strip()
        self.pid = self.process.pid

    def _read_first_line(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        line = b""
        stream = self.process.stdout
        while not line.endswith(b"\n") and time.monotonic() < deadline:
            ready, _, _ = select.select([stream], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                break
            chunk = os.read(stream.fileno(), 1)
            if not chunk:
                break
            line += chunk
        return line.decode("utf-8", "replace")

    def kill(self) -> None:
        """SIGKILL: no cleanup at all."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        self._close_pipes()

    def stop(self, timeout: float = 30) -> tuple[str, str]:
        """SIGTERM, then everything it printed (first line included)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            out, err = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, err = self.process.communicate(timeout=timeout)
        return self.first_line + out.decode("utf-8", "replace"), err.decode("utf-8", "replace")

    def _close_pipes(self) -> None:
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    def __enter__(self) -> CLIServer:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process.poll() is None:
            self.stop()
        self._close_pipes()


def run_cli(*args: str, timeout: float = 30, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run the CLI to completion (for runs that must refuse to start)."""
    full_env = cli_env(env)
    return subprocess.run([*MOCKSERVER, "--port", "0", *args], capture_output=True,
                          timeout=timeout, stdin=subprocess.DEVNULL, env=full_env, cwd=str(REPO))


# --- raw HTTP over a socket, for what the test client cannot send --------------------------

def read_answer(sock: socket.socket, head: bool = False) -> tuple[int, dict[str, str], bytes]:
    """Read exactly one HTTP/1.1 answer from a kept-alive connection (no body for a HEAD)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed without an answer: {data!r}"
        data += chunk
    head_bytes, _, rest = data.partition(b"\r\n\r\n")
    status_line = head_bytes.split(b"\r\n", 1)[0].decode("latin-1")
    assert status_line.startswith("HTTP/1.1 "), status_line
    headers = _headers(head_bytes)
    length = 0 if head else int(headers.get("content-length", 0))
    while len(rest) < length:
        chunk = sock.recv(65536)
        assert chunk, "connection closed inside the body"
        rest += chunk
    assert len(rest) == length, f"bytes beyond the answer: {rest[length:][:200]!r}"
    return int(status_line.split()[1]), headers, rest


def raw_request(url: str, payload: bytes, timeout: float = 30) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are to the server at `url`; parse one HTTP/1.1 answer."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    assert host == "127.0.0.1"
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        try:
            sock.sendall(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer and close before reading everything
        data = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
            head, sep, rest = data.partition(b"\r\n\r\n")
            if sep:
                headers = _headers(head)
                if "content-length" in headers and len(rest) >= int(headers["content-length"]):
                    break
    head, _, body = data.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0].decode("latin-1")
    assert status_line.startswith("HTTP/1."), f"no HTTP answer: {data[:200]!r}"
    headers = _headers(head)
    if "content-length" in headers:
        body = body[:int(headers["content-length"])]
    return int(status_line.split()[1]), headers, body


def _headers(head: bytes) -> dict[str, str]:
    headers = {}
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    return headers


def assert_json_answer(status: int, content_type: str | None, body: bytes, what: str = "", head: bool = False) -> Any:
    """No 5xx; application/json; a JSON body; errors as {"error": "<string>"}."""
    assert status < 500, f"{what}: {status} {body[:300]!r}"
    assert content_type is not None and content_type.split(";")[0].strip() == "application/json", \
        f"{what}: content type {content_type!r} ({status} {body[:200]!r})"
    if head:
        return None
    try:
        payload = strict_json(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise AssertionError(f"{what}: body is not JSON ({exc}): {body[:300]!r}") from None
    if status >= 400:
        assert isinstance(payload, dict) and isinstance(payload.get("error"), str) and payload["error"], \
            f"{what}: error body {payload!r}"
    return payload


# --- invariants of a whole state ----------------------------------------------------------

ID_FIELDS = {"accounts": "account_id", "members": "member_id",
             "touchpoint_types": "touchpoint_type_id", "touchpoints": "touchpoint_id"}


def check_state_invariants(state: dict[str, list[dict]]) -> None:
    """Unique ids, unique names/emails per account, no touchpoint without its type and member (same account)."""
    by_id: dict[str, dict[int, dict]] = {}
    for collection, id_field in ID_FIELDS.items():
        ids = [record[id_field] for record in state[collection]]
        duplicates = [i for i, n in Counter(ids).items() if n > 1]
        assert not duplicates, f"{collection}: duplicate ids {duplicates[:10]}"
        by_id[collection] = {record[id_field]: record for record in state[collection]}
    names = Counter((t["account_id"], t["type_name"]) for t in state["touchpoint_types"])
    assert all(n == 1 for n in names.values()), [k for k, n in names.items() if n > 1]
    emails = Counter((m["account_id"], m["email"].lower()) for m in state["members"])
    assert all(n == 1 for n in emails.values()), [k for k, n in emails.items() if n > 1]
    for touchpoint in state["touchpoints"]:
        member = by_id["members"].get(touchpoint["member_id"])
        kind = by_id["touchpoint_types"].get(touchpoint["touchpoint_type_id"])
        assert member is not None, f"touchpoint {touchpoint['touchpoint_id']} outlived member {touchpoint['member_id']}"
        assert kind is not None, \
            f"touchpoint {touchpoint['touchpoint_id']} outlived type {touchpoint['touchpoint_type_id']}"
        assert member["account_id"] == kind["account_id"] == touchpoint["account_id"]


def get_state(url: str, token: str | None = None) -> dict[str, list[dict]]:
    headers = {"X-Admin-Token": token} if token else {}
    response = requests.get(f"{url}/__admin/state", headers=headers, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.02) -> Any:
    """The first truthy value `predicate()` returns within `timeout` seconds, else its last (falsy) one."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    return predicate()


# --- a real browser ---------------------------------------------------------------------------

# Debian's headless shell (the old headless mode, what Playwright itself launches for headless Chromium):
# the same Blink and V8 as the browser, without its windowing stack. The browser tests took a third less
# CPU with it (20 s -> 13 s for the six browser modules, `-n 0`). Debian's full `chromium` when it is the
# one installed.
CHROMIUM_CHOICES = ("/usr/bin/chromium-headless-shell", "/usr/bin/chromium")
CHROMIUM = next((path for path in CHROMIUM_CHOICES if os.path.exists(path)), CHROMIUM_CHOICES[0])


def started_playwright() -> Iterator[Any]:
    """Playwright, for the session fixture `playwright` (`yield from`): one per process, since its sync API
    cannot run twice at once in a thread. Needs Debian's `chromium` (Playwright's own download cannot
    reach its host here): without it the tests are skipped, unless EMMA_MOCK_REQUIRE_BROWSER=1 (CI sets
    it), where they fail."""
    import pytest

    problem = None
    if not os.path.exists(CHROMIUM):
        problem = f"no Chromium at {' or '.join(CHROMIUM_CHOICES)} (apt-get install chromium-headless-shell)"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        problem = problem or "playwright is not installed (pip install -e '.[test]')"
    if problem is not None:
        if os.environ.get("EMMA_MOCK_REQUIRE_BROWSER") == "1":
            pytest.fail(f"EMMA_MOCK_REQUIRE_BROWSER=1 but {problem}", pytrace=False)
        pytest.skip(f"no browser: {problem}")
    with sync_playwright() as playwright:
        yield playwright


def launched_chromium(playwright: Any, *args: str) -> Iterator[Any]:
    """Headless Chromium with these command-line switches, for a fixture (`yield from`)."""
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", *args])
    yield browser
    browser.close()


# --- exported sessions, run as a user runs them ------------------------------------------

def replay(folder: Path, modules: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """pytest on exported modules in a folder of their own, as a user runs it (skips and xfails reported)."""
    return run_pytest(folder, modules, "-rsx", *args)
