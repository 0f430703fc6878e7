"""`python -m mockserver.healthcheck`: exit 0 when the mock answers `/__admin/health`, else 1.

The container's HEALTHCHECK runs this. It reads `MOCKSERVER_PORT` and
`MOCKSERVER_HOST` when it runs, the same variables the server read when it
started, so the check follows the port when the port is changed
(`docker run -e MOCKSERVER_PORT=9090 ...`). The port given as `--port` on the
server's command line is not seen here: in a container, set the variable.

It speaks HTTP with `http.client` rather than `urllib`, so an `HTTP_PROXY`
variable passed into the container cannot route the check through a proxy.
No third-party imports, so a check costs one short-lived Python process.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
from collections.abc import Sequence

HEALTH_PATH = "/__admin/health"
_ANY_V4 = ("", "0.0.0.0", "*")
_ANY_V6 = ("::", "[::]")


def probe_host(bind_host: str) -> str:
    """The address to reach a server bound to `bind_host` from the same machine (or container): the one
    rule for the health check, the URL the CLI prints and the one `MockServer` connects to (Server.url)."""
    host = bind_host.strip()
    if host in _ANY_V4:
        return "127.0.0.1"
    if host in _ANY_V6:
        return "::1"
    return host.strip("[]")


def check(host: str, port: int, timeout: float = 2.0) -> str | None:
    """None when the server at host:port answers the health path with 200 and status ok, else the problem."""
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", HEALTH_PATH, headers={"Accept": "application/json"})
        response = connection.getresponse()
        body = response.read(64 * 1024)
    except (OSError, http.client.HTTPException) as exc:
        return f"no answer from http://{host}:{port}{HEALTH_PATH}: {exc}"
    finally:
        connection.close()
    if response.status != 200:
        return f"http://{host}:{port}{HEALTH_PATH} answered HTTP {response.status}"
    try:
        status = json.loads(body).get("status")
    except (ValueError, AttributeError):
        status = None
    if status != "ok":
        return f"http://{host}:{port}{HEALTH_PATH} answered {body[:200]!r}, not {{\"status\": \"ok\"}}"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m mockserver.healthcheck",
                                description="Exit 0 when the emma-mock server answers its health check, else 1.")
    p.add_argument("--host", default=os.environ.get("MOCKSERVER_HOST", "127.0.0.1"),
                   help="the server's bind address (default: MOCKSERVER_HOST, else 127.0.0.1; "
                        "0.0.0.0 is probed on 127.0.0.1)")
    p.add_argument("--port", default=os.environ.get("MOCKSERVER_PORT", "8080"),
                   help="the server's port (default: MOCKSERVER_PORT, else 8080)")
    p.add_argument("--timeout", type=float, default=2.0, help="seconds to wait for the answer (default 2)")
    args = p.parse_args(argv)
    try:
        port = int(args.port)
    except ValueError:
        port = -1
    if not 1 <= port <= 65535:
        print(f"healthcheck: cannot probe port {args.port!r} (set MOCKSERVER_PORT to the server's port)",
              file=sys.stderr)
        return 1
    problem = check(probe_host(args.host), port, args.timeout)
    if problem:
        print(f"healthcheck: {problem}", file=sys.stderr)
        return 1  # Docker reads 1 as unhealthy (2 is reserved)
    print("healthcheck: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
