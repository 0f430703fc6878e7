"""Does each optimisation of the request path pay? The CLI with and without it, side by side.

    .venv/bin/python benchmarks/optimisations.py            # every optimisation, 5 rounds x 3 s (~2 min)
    .venv/bin/python benchmarks/optimisations.py --rounds 3 --seconds 2 record-json
    .venv/bin/python benchmarks/optimisations.py --burst     # accept batching: a burst of connections

Each variant is the real CLI (`python -m mockserver --quiet`, waitress, 8 threads, the demo
fixture) in its own process, started through this script with one optimisation turned off;
"all on" is the code as shipped. Load: wrk (or the Python client), 16 keep-alive connections,
GET one touchpoint type and GET a member's touchpoints. Within each round every variant runs
one after the other; the gain of an optimisation is req/s with it over req/s without it,
taken per round, and the median over rounds is printed with its range. docs/decisions.md
keeps the figures and what was decided from them (keep at 5 % or more).

`--burst` measures the one that is a bound rather than a speed-up: accepting up to 64
connections per wake-up. 1,200 connections are opened at once (no request on them, as idle
clients or an attacker would), then the time to an answer of `GET /__admin/health` is taken,
with ACCEPT_BATCH as shipped and with 1 (waitress's own one per pass), interleaved.
"""
from __future__ import annotations

import argparse
import http.client
import socket
import sys
import time
from collections.abc import Callable

from common import Scenario, load, log, machine_line, median, spawn, wait_ready


def _no_record_json_cache() -> None:
    from mockserver.core import records

    encode_one = records._encode

    def to_json(self: records.Record) -> str:
        return encode_one(self)

    records.Record.to_json = to_json  # type: ignore[method-assign]


def _no_routing_table() -> None:
    from mockserver.serving import routing

    routing.TableRoutedFlask.route_by_table = lambda self, converter: None  # type: ignore[method-assign]


OFF: dict[str, Callable[[], None]] = {
    "record-json": _no_record_json_cache,   # core/records.py: a record's JSON kept once encoded
    "routing-table": _no_routing_table,     # serving/routing.py: API paths routed by table
}
SCENARIOS = [Scenario("get_type", "GET", "/100/touchpoints/300"),
             Scenario("get_member", "GET", "/100/touchpoints/members/444")]


def serve(off: str) -> None:
    """Run the CLI in this process with one optimisation turned off ("none": as shipped)."""
    if off != "none":
        OFF[off]()
    from mockserver.serving.cli import main

    sys.exit(main(["--port", "0", "--quiet"]))


def measure(names: list[str], rounds: int, seconds: float) -> None:
    print(f"optimisations: {', '.join(names)}; {rounds} rounds x {seconds:g} s; {machine_line()}")
    variants = ["none", *names]
    rps: dict[tuple[str, str], list[float]] = {}
    for round_number in range(1, rounds + 1):
        for scenario in SCENARIOS:
            for variant in variants:
                proc = spawn(variant, [sys.executable, __file__, "--serve", variant], read_url=True)
                try:
                    wait_ready(proc, "/__admin/health")
                    load(proc.url, scenario, 1)  # warm up: first encodings, imports, threads
                    result = load(proc.url, scenario, seconds)
                finally:
                    proc.stop()
                if result.errors:
                    raise SystemExit(f"{variant}: {result.errors} errors on {scenario.name}")
                rps.setdefault((variant, scenario.name), []).append(result.rps)
                log(f"  round {round_number}/{rounds} {scenario.name:10} off={variant:14} {result.rps:7.0f} req/s")
    print(f"\n{'optimisation':16} {'scenario':11} {'req/s on':>9} {'req/s off':>9}  gain when on, median (range)")
    for name in names:
        for scenario in SCENARIOS:
            on, off = rps["none", scenario.name], rps[name, scenario.name]
            gains = [a / b - 1 for a, b in zip(on, off, strict=True)]
            print(f"{name:16} {scenario.name:11} {median(on):9.0f} {median(off):9.0f}  "
                  f"{median(gains):+6.1%} ({min(gains):+.1%} to {max(gains):+.1%})")


def _health_after_burst(connections: int) -> float:
    """Seconds to an answer from /__admin/health once `connections` sockets have connected at once."""
    from mockserver import MockServer

    with MockServer() as server:
        port = int(server.url.rsplit(":", 1)[1])
        sockets = []
        try:
            for _ in range(connections):
                sock = socket.socket()
                sock.setblocking(False)
                sock.connect_ex(("127.0.0.1", port))
                sockets.append(sock)
            started = time.perf_counter()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", "/__admin/health")
            conn.getresponse().read()
            return time.perf_counter() - started
        finally:
            for sock in sockets:
                sock.close()


def burst(rounds: int, connections: int = 1200) -> None:
    from mockserver.serving import server

    shipped = server.ACCEPT_BATCH
    print(f"accept batching: GET /__admin/health after {connections} connections at once; {machine_line()}")
    taken: dict[int, list[float]] = {shipped: [], 1: []}
    for _ in range(rounds):
        for batch in taken:
            server.ACCEPT_BATCH = batch
            taken[batch].append(_health_after_burst(connections))
    server.ACCEPT_BATCH = shipped
    for batch, seconds in taken.items():
        print(f"ACCEPT_BATCH={batch:<3} median {median(seconds) * 1000:6.0f} ms  "
              f"({', '.join(f'{s * 1000:.0f}' for s in seconds)} ms)")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("names", nargs="*", choices=[[], *OFF], help="optimisations to measure (default: all)")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--seconds", type=float, default=3)
    p.add_argument("--burst", action="store_true", help="measure accept batching on a burst of connections")
    p.add_argument("--serve", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.serve:
        serve(args.serve)
    if args.burst:
        burst(args.rounds)
        return
    measure(list(args.names) or list(OFF), args.rounds, args.seconds)


if __name__ == "__main__":
    main()
