"""`--server granian`: the mock on granian's WSGI mode, a Rust HTTP server (the optional `fast` extra).

Throughput is 1.3-2.6x waitress's on the same mock (docs/performance.md), at these costs,
each said in the banner and docs/decisions.md:

* No `drop` fault: granian always answers, so a drop fault answers 502 `{"error": ...}`
  saying so (as in the in-process test client).
* Requests granian cannot parse get its own empty 400, not a JSON error.
* The app runs in one worker process that granian spawns: the CLI's process checks the
  fixtures (and `--db`) first, releases them, and the worker loads them again.
* `--port 0` takes a free port found here just before granian binds it: another process
  could take it in between, and then the start fails with the bind error.
"""
from __future__ import annotations

import ctypes
import json
import os
import socket
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from ..config import SETTINGS, Config

_CONFIG_VARIABLE = "EMMA_MOCK_WORKER_CONFIG"  # the Config the worker builds its app from, as JSON
_BANNER_VARIABLE = "EMMA_MOCK_WORKER_BANNER"  # what the worker prints once it accepts connections
IDLE_HEADER_TIMEOUT_MS = 15_000  # as waitress's idle connection limit: 15 s to send a request's headers


def available() -> str | None:
    """None when granian can serve here, else why not (for the banner)."""
    try:
        import granian  # noqa: F401
    except ImportError:
        return "granian is not installed (pip install 'emma-mock[fast]')"
    return None


def worker_app() -> Callable[..., Any]:
    """The factory granian's worker calls: the app, built from the CLI's Config."""
    from multiprocessing.util import Finalize

    from ..control.mock import mock_of
    from ..core import filestore
    from .app import create_app

    if sys.platform == "linux":  # end with the CLI's process, even on kill -9 (no orphan holding the port or --db)
        ctypes.CDLL(None).prctl(1, 9)  # PR_SET_PDEATHSIG, SIGKILL
    config = Config(**json.loads(os.environ[_CONFIG_VARIABLE]))
    banner = os.environ[_BANNER_VARIABLE]
    # granian copies the worker's environment into every request's environ. Emptied, it cannot pass
    # a variable such as HTTP_PROXY (common in CI) off as a request header, to the app or the
    # journal, and each request's environ holds only its own keys (not the process's dozens more).
    # Everything the worker needs from it has been read by now.
    os.environ.clear()
    filestore.LOCK_OWNER_PID = os.getppid()  # a refused second server names the process the user started
    app = create_app(config)
    # On a clean stop the worker process ends through multiprocessing, which runs its finalizers (not atexit):
    # the --db journal is folded in and the file freed, as on waitress.
    Finalize(app, mock_of(app).close, exitpriority=10)
    # Announced from here, not from the CLI's process: a thread there could hold a lock (an import's,
    # say) at the moment granian forks this worker, and the worker would wait on it forever.
    threading.Thread(target=_announce, args=(config.host, config.port, banner), daemon=True).start()
    return app


def _announce(host: str, port: int, banner: str) -> None:
    """Print the banner once the port accepts connections (its first line means "ready" to a client)."""
    host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=1):
                print(banner, flush=True)
                return
        except OSError:
            time.sleep(0.01)


def probe_port(host: str, port: int) -> int:
    """The port (a free one for 0) if it can be bound now; OSError (as a bind would raise) if not."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
        return int(probe.getsockname()[1])


class GranianServer:
    """Serves `config` with granian until SIGINT/SIGTERM (granian's own handlers stop its worker)."""

    def __init__(self, config: Config):
        self.config = config
        self.port = probe_port(config.host, config.port)  # a busy port fails here, in one clear line
        host = "127.0.0.1" if config.host in ("0.0.0.0", "::") else config.host
        self.url = f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    def serve(self, banner: str) -> None:
        """Serve until stopped; the worker prints `banner` once it accepts connections."""
        from granian.constants import Interfaces
        from granian.http import HTTP1Settings
        from granian.server import Server

        values = {s.name: getattr(self.config, s.name) for s in SETTINGS}
        values["port"] = self.port
        os.environ[_CONFIG_VARIABLE] = json.dumps(values, default=str)
        os.environ[_BANNER_VARIABLE] = banner
        server = Server(f"{__name__}:worker_app", address=self.config.host, port=self.port,
                        interface=Interfaces.WSGI, workers=1, blocking_threads=self.config.threads,
                        http1_settings=HTTP1Settings(header_read_timeout=IDLE_HEADER_TIMEOUT_MS),
                        factory=True, log_enabled=False, websockets=False)
        server.serve()
