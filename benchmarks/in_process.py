"""The request path's own cost: GET one touchpoint type called as WSGI in this process, no server.

    .venv/bin/python benchmarks/in_process.py [--rounds 7] [--calls 20000]

The mock (`create_app`, as the CLI builds it, auth on) and bare Flask answering the same bytes
(bench_apps.bare_app) are called in turn, round after round, in one process; each figure is the
best round's microseconds per call, and the ratio is bare over mock. With no server and no
sockets this moves far less from run to run than the wrk figures of benchmarks/run.py, and it
shows where a change to the request path gains or loses; over the wire waitress's own cost is
added to both.
"""
from __future__ import annotations

import argparse
import base64
import io
import json
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_apps import bare_app, mock_app

PATH = "/100/touchpoints/300"
AUTH = "Basic " + base64.b64encode(b"demo-public-key:demo-private-key").decode()
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def environ() -> dict[str, Any]:
    """What waitress hands the app for `GET /100/touchpoints/300` from wrk."""
    return {"REQUEST_METHOD": "GET", "PATH_INFO": PATH, "QUERY_STRING": "", "REQUEST_URI": PATH,
            "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8080", "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": "127.0.0.1:8080", "HTTP_AUTHORIZATION": AUTH, "REMOTE_ADDR": "127.0.0.1",
            "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(b""), "wsgi.errors": sys.stderr,
            "wsgi.multithread": True, "wsgi.multiprocess": False, "wsgi.run_once": False, "SCRIPT_NAME": ""}


def caller(app: WSGIApp) -> tuple[Callable[[], bytes], list[str]]:
    statuses: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        statuses.append(status)

    def call() -> bytes:
        return b"".join(app(environ(), start_response))
    return call, statuses


def best_microseconds(call: Callable[[], bytes], calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        call()
    return (time.perf_counter() - started) / calls * 1e6


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--calls", type=int, default=20_000)
    args = p.parse_args()

    mock = mock_app()
    mock_call, mock_statuses = caller(mock)
    body = mock_call()
    assert mock_statuses[-1].startswith("200"), mock_statuses[-1]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as bodies:
        json.dump([["GET", PATH, body.decode()]], bodies)
    bare_call, bare_statuses = caller(bare_app(bodies.name))
    assert bare_call() == body and bare_statuses[-1].startswith("200")  # the same bytes

    figures: dict[str, list[float]] = {"mock": [], "bare Flask": []}
    for call in (mock_call, bare_call):  # warm-up
        best_microseconds(call, args.calls // 10)
    for _ in range(args.rounds):
        figures["mock"].append(best_microseconds(mock_call, args.calls))
        figures["bare Flask"].append(best_microseconds(bare_call, args.calls))
    Path(bodies.name).unlink()
    best = {name: min(values) for name, values in figures.items()}
    print(f"GET one touchpoint type in process, best of {args.rounds} rounds x {args.calls} calls:")
    for name, value in best.items():
        print(f"  {name:10} {value:6.1f} us per request  (rounds {', '.join(f'{v:.1f}' for v in figures[name])})")
    print(f"  bare / mock {best['bare Flask'] / best['mock']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
