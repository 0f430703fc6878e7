"""`MockServer`: a real mock server in a background thread, for unittest, scripts and the pytest plugin.

`MockServer.connect(url)` gives the same helpers on a mock that is already
running elsewhere (a container in CI), driven over HTTP and never started or
stopped from here.
"""
from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from ..config import Config
from ..core.errors import NotFound
from ..core.fixtures import DEFAULT_FIXTURE
from ..serving.app import create_app
from ..serving.server import Server
from ..state.mock import Mock
from ..wire import mock_of

Document = dict[str, list[dict[str, Any]]]


class MockClient:
    """Helpers over a running mock's `/__admin` control API: where it is, who to be, and every control.

    Works on any mock reachable over HTTP: `MockServer` is one started in this
    process, `MockServer.connect(url)` attaches to one started elsewhere.
    """

    def __init__(self, url: str | None = None, admin_token: str | None = None):
        self._url = url.rstrip("/") if url is not None else None
        self.admin_token = admin_token
        self.session = requests.Session()
        self._accounts: list[dict[str, Any]] | None = None

    # --- where and who ------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The server's root URL, such as `http://127.0.0.1:8080`."""
        if self._url is None:
            raise RuntimeError("the server is not running: call start() or use it as a context manager")
        return self._url

    @property
    def accounts(self) -> list[dict[str, Any]]:
        """Every account of the mock's state, keys included (read a page of accounts at a time)."""
        accounts: list[dict[str, Any]] = []
        while True:
            page: list[dict[str, Any]] = self._admin("GET", "accounts", params={"start": len(accounts)})
            accounts += page
            if not page:
                return accounts

    def _first_account(self) -> dict[str, Any] | None:
        """The first account of the state (by id), cached until the next reset or load."""
        if self._accounts is None:
            self._accounts = self._admin("GET", "accounts", params={"end": 1})
        return self._accounts[0] if self._accounts else None

    @property
    def account_id(self) -> int:
        """The first account of the state (100 with the default fixture)."""
        first = self._first_account()
        if first is None:
            raise LookupError("the mock's state has no account")
        account_id: int = first["account_id"]
        return account_id

    @property
    def auth(self) -> tuple[str, str]:
        """`(public_key, private_key)` of `account_id`, ready for `requests`' `auth=`."""
        return self.auth_for(self.account_id)

    def auth_for(self, account_id: int) -> tuple[str, str]:
        """The keys of another account of the state."""
        account = self._account(account_id)
        if account is None:
            raise KeyError(f"no account {account_id} in the mock's state")
        return account["public_key"], account["private_key"]

    def _account(self, account_id: int) -> dict[str, Any] | None:
        try:
            account: dict[str, Any] = self._admin("GET", f"accounts/{int(account_id)}")
        except LookupError:
            return None
        return account

    @property
    def base_url(self) -> str:
        """`url` + `/{account_id}`: what an Emma client takes in place of `https://api.e2ma.net/{account_id}`."""
        return f"{self.url}/{self.account_id}"

    # --- control API --------------------------------------------------------------------

    def _admin(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"X-Admin-Token": self.admin_token} if self.admin_token else {}
        try:
            response = requests.request(method, f"{self.url}/__admin/{path}", headers=headers, timeout=30, **kwargs)
        except requests.ConnectionError:
            raise ConnectionError(f"no emma-mock answers at {self.url}: is it running, and is this its "
                                  "URL and port?") from None
        if response.status_code == 404 and path.startswith("accounts/"):
            raise LookupError(response.json().get("error", "not found"))
        if response.status_code >= 400:
            raise AssertionError(f"{method} /__admin/{path} failed: {response.status_code} {response.text}")
        return response.json()

    def _authenticate_session(self) -> None:
        """Let `session` speak as the first account (read as one small page, never the whole state)."""
        self._accounts = None
        first = self._first_account()
        self.session.auth = (first["public_key"], first["private_key"]) if first else None

    def reset(self) -> None:
        """Back to the fixtures: data, id sequences, journal, faults, clock and rate limit."""
        self._admin("POST", "reset")
        self._authenticate_session()

    def state(self) -> Document:
        """The whole state as a fixture document."""
        state: Document = self._admin("GET", "state")
        return state

    def load(self, fixture: dict[str, Any] | str | Path) -> Document:
        """Replace the state with a fixture document (a dict, or the path of a JSON file)."""
        if not isinstance(fixture, dict):
            fixture = json.loads(Path(fixture).read_text(encoding="utf-8"))
        state: Document = self._admin("PUT", "state", json=fixture)
        self._authenticate_session()
        return state

    def requests(self, method: str | None = None, path: str | None = None,
                 status: int | None = None) -> list[dict[str, Any]]:
        """The journal of API requests, oldest first, filtered by method, path (glob) and status."""
        params = {k: v for k, v in (("method", method), ("path", path), ("status", status)) if v is not None}
        entries: list[dict[str, Any]] = self._admin("GET", "requests", params=params)
        return entries

    def clear_requests(self) -> None:
        """Empty the journal."""
        self._admin("DELETE", "requests")

    def add_fault(self, **fault: Any) -> dict[str, Any]:
        """Add a fault: method, path (glob), status, body, delay_ms, action, times, probability, seed."""
        added: dict[str, Any] = self._admin("POST", "faults", json=fault)
        return added

    def faults(self) -> list[dict[str, Any]]:
        """The active faults."""
        active: list[dict[str, Any]] = self._admin("GET", "faults")
        return active

    def remove_fault(self, fault_id: int) -> None:
        self._admin("DELETE", f"faults/{fault_id}")

    def clear_faults(self) -> None:
        self._admin("DELETE", "faults")

    def freeze_clock(self, now: str) -> dict[str, Any]:
        """Freeze "now" at a date (`@D:...` or ISO 8601)."""
        clock: dict[str, Any] = self._admin("PUT", "clock", json={"now": now})
        return clock

    def advance_clock(self, seconds: float) -> dict[str, Any]:
        """Move "now" forward (freezing it if it was running)."""
        clock: dict[str, Any] = self._admin("PUT", "clock", json={"advance_seconds": seconds})
        return clock

    def real_clock(self) -> dict[str, Any]:
        """Back to real time."""
        clock: dict[str, Any] = self._admin("DELETE", "clock")
        return clock

    def set_rate_limit(self, requests: int, per_seconds: float) -> dict[str, Any]:
        """At most `requests` API requests per account in any `per_seconds` window."""
        limit: dict[str, Any] = self._admin("PUT", "rate-limit", json={"requests": requests,
                                                                     "per_seconds": per_seconds})
        return limit

    def clear_rate_limit(self) -> None:
        self._admin("DELETE", "rate-limit")

    def close(self) -> None:
        """Release the HTTP session (a mock this handle did not start keeps running)."""
        self.session.close()

    def __enter__(self) -> MockClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class MockServer(MockClient):
    """A running mock on a free port: `with MockServer() as server: requests.get(server.base_url + ...)`.

    Settings are `Config`'s fields, as keyword arguments (`fixtures`, `auth`,
    `db`, `admin_token`, ...); the port defaults to 0, a free one.
    """

    def __init__(self, fixtures: str | Path = DEFAULT_FIXTURE, **settings: Any):
        settings.setdefault("port", 0)
        super().__init__(admin_token=settings.get("admin_token"))
        self.config = Config(fixtures=fixtures, **settings)
        self.app = create_app(self.config)
        self._mock: Mock = mock_of(self.app)
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._stopped = False

    @classmethod
    def connect(cls, url: str, admin_token: str | None = None) -> MockClient:
        """A handle on a mock already running at `url` (a container, another process); never starts or stops it."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path.strip("/") or parts.query:
            raise ValueError(f"{url!r}: give the mock's root URL, such as http://127.0.0.1:8080 "
                             "(not a base URL with an account id such as .../100)")
        client = MockClient(url, admin_token)
        client._authenticate_session()
        return client

    # --- life cycle ---------------------------------------------------------------------

    def start(self) -> MockServer:
        if self._stopped:
            raise RuntimeError("this MockServer was stopped (and its --db file freed): create a new one")
        try:
            self._server = Server(self.app, self.config.host, self.config.port, self.config.threads)
        except BaseException:
            self._mock.close()  # free the --db file for the next try
            raise
        self._url = self._server.url
        self._thread = threading.Thread(target=self._server.serve_forever, name="emma-mock", daemon=True)
        self._thread.start()
        self._authenticate_session()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._server = self._thread = None
            self._url = None
            self._mock.close()
        self._stopped = True
        self.close()

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def accounts(self) -> list[dict[str, Any]]:
        """Every account of the loaded state, keys included (read in process)."""
        return self._mock.store.list_accounts()

    def _first_account(self) -> dict[str, Any] | None:
        first = self._mock.store.list_accounts(0, 1)
        return first[0] if first else None

    def _account(self, account_id: int) -> dict[str, Any] | None:
        try:
            return self._mock.store.get_account(account_id)
        except NotFound:
            return None

    def reset(self) -> None:
        """Back to the fixtures: data, id sequences, journal, faults, clock and rate limit.

        Runs in process (the server lives in this process): the same code as
        `POST /__admin/reset`, without an HTTP round trip per test.
        """
        self._mock.reset()
        self._authenticate_session()
