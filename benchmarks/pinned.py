"""GET one touchpoint type, the mock beside bare Flask, with the load on one core and the server on another.

    .venv/bin/python benchmarks/pinned.py [--rounds 5] [--seconds 3]

On a 2-core machine benchmarks/run.py lets wrk and the server share both cores, and how the scheduler
places their threads swings a run by ±10 %. Here `taskset` puts wrk (one thread, 16 keep-alive
connections) on core 0 and the server on core 1, for both targets alike, and each run also reads the
server's CPU time from /proc, so the figures are CPU per request as well as req/s. The mock is the
CLI (`python -m mockserver`, console on, auth on); bare Flask answers the mock's bytes on the same
server (benchmarks/bench_apps.py). Rounds interleave the two; the ratio is taken per round.
Needs `wrk` and `taskset` on PATH and at least 2 cores.
"""
from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import REPO, bench_env, median, spawn, wait_ready

PATH = "/100/touchpoints/300"
AUTH = "Basic " + base64.b64encode(b"demo-public-key:demo-private-key").decode()


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(url: str, pid: int, seconds: int) -> tuple[float, float]:
    """(req/s, server CPU µs per request) of one wrk run on core 0."""
    before = cpu_seconds(pid)
    out = subprocess.run(["taskset", "-c", "0", "wrk", "-t1", "-c16", f"-d{seconds}s", "-H", f"Authorization: {AUTH}",
                          url + PATH], capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    count = int(re.search(r"(\d+) requests in", out).group(1))
    return rate, (cpu_seconds(pid) - before) / count * 1e6


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--seconds", type=int, default=3)
    args = p.parse_args()
    if not (shutil.which("wrk") and shutil.which("taskset")) or len(os.sched_getaffinity(0)) < 2:
        print("needs wrk and taskset on PATH and 2 cores", file=sys.stderr)
        return 2
    on_core_1 = ["taskset", "-c", "1"]
    mock = spawn("mock", [*on_core_1, sys.executable, "-m", "mockserver", "--port", "0"], env=bench_env(),
                 read_url=True)
    bare = bodies = None
    try:
        wait_ready(mock, "/__admin/health")
        host, port = mock.url.removeprefix("http://").rsplit(":", 1)
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        connection.request("GET", PATH, headers={"Authorization": AUTH})
        body = connection.getresponse().read().decode()
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as bodies:
            json.dump([["GET", PATH, body]], bodies)
        env = bench_env()
        env["BENCH_BARE_BODIES"] = bodies.name
        bare = spawn("bare Flask", [*on_core_1, sys.executable, str(REPO / "benchmarks" / "serve.py"), "emma-waitress",
                                    "bare", "--port", "0", "--threads", "8"], env=env, read_url=True)
        wait_ready(bare, PATH)
        for proc in (mock, bare):  # warm-up
            run(proc.url, proc.pid, 1)
        ratios = []
        for number in range(1, args.rounds + 1):
            (mine, mine_cpu), (theirs, their_cpu) = run(mock.url, mock.pid, args.seconds), run(bare.url, bare.pid,
                                                                                              args.seconds)
            ratios.append(mine / theirs)
            print(f"round {number}: mock {mine:.0f} req/s, {mine_cpu:.0f} µs CPU a request; bare Flask {theirs:.0f} "
                  f"req/s, {their_cpu:.0f} µs; mock / bare {mine / theirs:.2f}", flush=True)
        print(f"GET one, mock / bare Flask: median {median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f})")
    finally:
        for proc in (mock, bare):
            if proc is not None:
                proc.stop()
        if bodies is not None:
            Path(bodies.name).unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
