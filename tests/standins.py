"""Stand-ins for the real Emma API in the contract tests: another emma-mock with data of its own
(started by the tests, on 127.0.0.1) and a drifting proxy in front of it that alters answers the
way a real API can drift. The real API is never contacted.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

ACCOUNT = 2001
KEYS = ("c0ffee5ecretpublic77", "d00dfeed5ecretprivate99")  # grepped for in every output and file
EMAILS = ["real.person@company.test", "Second.Person@company.test", "third@company.test",
          "fourth@company.test", "fifth@company.test"]


def standin_fixture(members: int = 5, touchpoints_per_member: int = 2) -> dict[str, Any]:
    """An account unlike the demo: its own ids, types, members (real-looking emails and fields) and touchpoints."""
    emails = EMAILS if members <= len(EMAILS) else [f"person{i}@company.test" for i in range(members)]
    doc: dict[str, Any] = {
        "accounts": [{"account_id": ACCOUNT, "public_key": KEYS[0], "private_key": KEYS[1], "name": "Stand-in"},
                     {"account_id": 2002, "public_key": "another-public", "private_key": "another-private"}],
        "touchpoint_types": [
            {"account_id": ACCOUNT, "touchpoint_type_id": 71, "type_name": "downloaded_app",
             "display_name": "Downloaded App", "created_at": "@D:2024-03-01T08:00:00"},
            {"account_id": ACCOUNT, "touchpoint_type_id": 72, "type_name": "renewed",
             "display_name": "Renewed Membership", "created_at": "@D:2024-03-02T09:30:00"},
            {"account_id": 2002, "touchpoint_type_id": 73, "type_name": "elsewhere", "display_name": "Elsewhere"}],
        "members": [{"account_id": ACCOUNT, "member_id": 9001 + i, "email": emails[i],
                     "member_since": "@D:2023-05-05T05:05:05", "fields": {"first_name": f"Name{i}", "city": "Oslo"}}
                    for i in range(members)],
        "touchpoints": []}
    next_id = 500
    for i in range(members):
        for j in range(touchpoints_per_member if i % 3 != 2 else 0):  # every third member has none
            doc["touchpoints"].append({
                "account_id": ACCOUNT, "touchpoint_id": next_id, "member_id": 9001 + i,
                "touchpoint_type_id": 71 + j % 2, "touchpoint_timestamp": f"@D:2024-04-0{1 + j % 9}T10:00:00",
                "touchpoint_monetary_value": [12.5, None, 3.0][j % 3], "mailing_id": [None, 4242][j % 2],
                "attributes": [{"plan": "gold", "seats": 3}, None][j % 2], "inserted_at": "@D:2024-04-10T10:00:01"})
            next_id += 1
    return doc


Drift = Callable[[str, str, dict[str, list[str]], int, Any], tuple[int, Any]]


class LocalServer:
    """A threaded HTTP server on 127.0.0.1 for a handler class; `url` is its root, `close()` stops it."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Proxy(LocalServer):
    """An HTTP server on 127.0.0.1 forwarding to `target` and passing answers through `drift`.

    `before(method, path)` runs before forwarding (a test delays a request there).
    """

    def __init__(self, target: str, drift: Drift | None = None,
                 before: Callable[[str, str], None] | None = None):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                parts = urlsplit(self.path)
                if proxy.before is not None:
                    proxy.before(self.command, parts.path)
                headers = {k: v for k, v in self.headers.items() if k.lower() in ("authorization", "content-type")}
                answer = requests.request(self.command, target + self.path, data=body, headers=headers, timeout=30)
                status, parsed = answer.status_code, answer.json() if answer.content else None
                extra = {k: v for k, v in answer.headers.items() if k in ("Retry-After", "WWW-Authenticate")}
                if proxy.drift is not None:
                    status, parsed = proxy.drift(self.command, parts.path, parse_qs(parts.query), status, parsed)
                data = json.dumps(parsed).encode()
                self.send_response(status)
                for name, value in {**extra, "Content-Type": "application/json",
                                    "Content-Length": str(len(data))}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _forward

        self.drift, self.before = drift, before
        super().__init__(Handler)


BIN = Path(sys.executable).parent


def emma_mock(*args: str, env: dict[str, str] | None = None, keys: bool = True,
              timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`emma-mock ARGS` as a user runs it, the stand-in's keys in EMMA_PUBLIC_KEY / EMMA_PRIVATE_KEY."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("EMMA_", "MOCKSERVER_"))}
    if keys:
        environment.update(EMMA_PUBLIC_KEY=KEYS[0], EMMA_PRIVATE_KEY=KEYS[1])
    environment.update(env or {})
    return subprocess.run([str(BIN / "emma-mock"), *args], capture_output=True, text=True, timeout=timeout,
                          env=environment)


def assert_no_secret(*texts: str) -> None:
    """No key of the stand-in in any of these outputs or file contents."""
    for text in texts:
        for key in KEYS:
            assert key not in text, f"a key leaked into:\n{text[:2000]}"


def started_standin(folder: Path) -> Any:
    """A MockServer (use it in a `with`) serving `standin_fixture()` from a file in `folder`."""
    from mockserver.testing import MockServer

    path = folder / "standin.json"
    path.write_text(json.dumps(standin_fixture()))
    return MockServer(fixtures=path)


def base(server: Any) -> str:
    """The account's API base on a stand-in or proxy, as a client uses it."""
    return f"{server.url}/{ACCOUNT}"
