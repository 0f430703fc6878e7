"""`MockServer`: a real mock server in a background thread, for unittest, scripts and the pytest plugin."""
from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import requests

from ..serving.app import create_app
from ..config import Config
from ..core.fixtures import DEFAULT_FIXTURE
from ..serving.server import Server


class MockServer:
    """A running mock on a free port: `with MockServer() as server: requests.get(server.base_url + ...)`.

    The helpers drive the `/__admin` control API over HTTP, exactly as a test
    in another process (or language) would.
    """

    def __init__(self, fixtures: str | Path = DEFAULT_FIXTURE, host: str = "127.0.0.1", port: int = 0,
                 auth: bool = True, db: str | Path | None = None, admin_token: str | None = None,
                 journal_size: int = 1000, threads: int = 8):
        self.config = Config(host=host, port=port, fixtures=fixtures, db=db, auth=auth,
                             admin_token=admin_token, journal_size=journal_size, threads=threads)
        self.app = create_app(self.config)
        self._mock = self.app.extensions["emma_mock"]
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self.session = requests.Session()

    # --- life cycle ---------------------------------------------------------------------

    def start(self) -> MockServer:
        try:
            self._server = Server(self.app, self.config.host, self.config.port, self.config.threads)
        except BaseException:
            self._mock.close()  # free the --db file for the next try
            raise
        self._thread = threading.Thread(target=self._server.serve_forever, name="emma-mock", daemon=True)
        self._thread.start()
        account = self._mock.store.accounts()[0] if self._mock.store.accounts() else None
        if account is not None:
            self.session.auth = (account["public_key"], account["private_key"])
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._thread.join(timeout=5)
            self._server = self._thread = None
            self._mock.close()
        self.session.close()

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- where and who ------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the server is not running: call start() or use it as a context manager")
        return self._server.url

    @property
    def accounts(self) -> list[dict[str, Any]]:
        """Every account of the loaded state, keys included."""
        return self._mock.store.accounts()

    @property
    def account_id(self) -> int:
        """The first account of the fixtures (100 in the default fixture)."""
        return self.accounts[0]["account_id"]

    @property
    def auth(self) -> tuple[str, str]:
        """`(public_key, private_key)` of `account_id`, ready for `requests`' `auth=`."""
        return self.auth_for(self.account_id)

    def auth_for(self, account_id: int) -> tuple[str, str]:
        for account in self.accounts:
            if account["account_id"] == account_id:
                return account["public_key"], account["private_key"]
        raise KeyError(f"no account {account_id} in the mock's state")

    @property
    def base_url(self) -> str:
        """`url` + `/{account_id}`: the base URL an Emma client is configured with."""
        return f"{self.url}/{self.account_id}"

    # --- control API --------------------------------------------------------------------

    def _admin(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"X-Admin-Token": self.config.admin_token} if self.config.admin_token else {}
        response = requests.request(method, f"{self.url}/__admin/{path}", headers=headers, timeout=30, **kwargs)
        if response.status_code >= 400:
            raise AssertionError(f"{method} /__admin/{path} failed: {response.status_code} {response.text}")
        return response.json()

    def reset(self) -> None:
        """Back to the fixtures: data, id sequences, journal, faults, clock and rate limit.

        Runs in-process (the server lives in this process): the same code as
        `POST /__admin/reset`, without an HTTP round trip per test.
        """
        self._mock.reset()

    def state(self) -> dict[str, list[dict]]:
        return self._admin("GET", "state")

    def load(self, fixture: dict | str | Path) -> dict[str, list[dict]]:
        """Replace the state with a fixture document (a dict, or the path of a JSON file)."""
        if not isinstance(fixture, dict):
            fixture = json.loads(Path(fixture).read_text(encoding="utf-8"))
        return self._admin("PUT", "state", json=fixture)

    def requests(self, method: str | None = None, path: str | None = None,
                 status: int | None = None) -> list[dict[str, Any]]:
        """The journal of API requests, oldest first, filtered by method, path (glob) and status."""
        params = {k: v for k, v in (("method", method), ("path", path), ("status", status)) if v is not None}
        return self._admin("GET", "requests", params=params)

    def clear_requests(self) -> None:
        self._admin("DELETE", "requests")

    def add_fault(self, **fault: Any) -> dict[str, Any]:
        """Add a fault (fields as SPEC §6: method, path, status, body, delay_ms, action, times, ...)."""
        return self._admin("POST", "faults", json=fault)

    def faults(self) -> list[dict[str, Any]]:
        return self._admin("GET", "faults")

    def remove_fault(self, fault_id: int) -> None:
        self._admin("DELETE", f"faults/{fault_id}")

    def clear_faults(self) -> None:
        self._admin("DELETE", "faults")

    def freeze_clock(self, now: str) -> dict[str, Any]:
        """Freeze "now" at a date (`@D:...` or ISO 8601)."""
        return self._admin("PUT", "clock", json={"now": now})

    def advance_clock(self, seconds: float) -> dict[str, Any]:
        return self._admin("PUT", "clock", json={"advance_seconds": seconds})

    def real_clock(self) -> dict[str, Any]:
        return self._admin("DELETE", "clock")

    def set_rate_limit(self, requests: int, per_seconds: float) -> dict[str, Any]:
        return self._admin("PUT", "rate-limit", json={"requests": requests, "per_seconds": per_seconds})

    def clear_rate_limit(self) -> None:
        self._admin("DELETE", "rate-limit")
