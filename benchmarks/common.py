"""Shared helpers of the benchmark scripts: processes, readiness, load generators, statistics.

Nothing here talks to anything but 127.0.0.1, and every load loop is bounded
in time. The load generator is wrk (keep-alive, 16 connections, fixed
duration, `benchmarks/wrk.lua` for bodies, unique names and auth) when it is
on PATH, else a Python keep-alive client (threads x http.client).
"""
from __future__ import annotations

import base64
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
LUA = HERE / "wrk.lua"
HOST = "127.0.0.1"
CONNECTIONS = 16
DEMO_AUTH = "Basic " + base64.b64encode(b"demo-public-key:demo-private-key").decode()


# --- processes ----------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def unset_environ() -> dict[str, str]:
    """This environment without emma-mock's settings (MOCKSERVER_*, EMMA_MOCK_*): a benchmark's server
    runs as its command line says, whatever the shell that started the benchmark had set."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("MOCKSERVER_", "EMMA_MOCK_"))}


def bench_env(extra_paths: tuple[Path, ...] = ()) -> dict[str, str]:
    """The environment of a spawned server: the working tree's package and benchmarks/ importable."""
    env = unset_environ()
    paths = [str(REPO), str(HERE), *map(str, extra_paths)]
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


@dataclass
class Proc:
    """A spawned server; `url` once known; `stop()` ends it (and only it: its own process group)."""

    name: str
    popen: subprocess.Popen
    url: str = ""
    started: float = 0.0
    ready_after: float = 0.0

    @property
    def pid(self) -> int:
        return self.popen.pid

    def stop(self) -> None:
        if self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout=10)
        for stream in (self.popen.stdout, self.popen.stderr):
            if stream:
                stream.close()


def spawn(name: str, argv: list[str], env: dict[str, str] | None = None, cwd: Path | None = None,
          read_url: bool = False, url: str = "", stderr_file: Path | None = None) -> Proc:
    """Start a server in its own process group. With `read_url`, its first stdout line holds the URL."""
    started = time.perf_counter()
    popen = subprocess.Popen(argv, env=env or bench_env(), cwd=cwd or REPO, start_new_session=True,
                             stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE if read_url else subprocess.DEVNULL,
                             stderr=open(stderr_file, "wb") if stderr_file else subprocess.DEVNULL)
    proc = Proc(name, popen, url, started)
    if read_url:
        line = popen.stdout.readline().decode(errors="replace")
        marker = "serving on "
        if marker not in line:
            proc.stop()
            raise RuntimeError(f"{name}: unexpected first line {line!r} (exit {popen.poll()})")
        proc.url = line.split(marker, 1)[1].split()[0].rstrip("/")
        # drain the rest of stdout so a chatty server never blocks on a full pipe
        threading.Thread(target=lambda: popen.stdout.read(), daemon=True).start()
    return proc


def wait_ready(proc: Proc, path: str, headers: dict[str, str] | None = None, timeout: float = 120.0) -> float:
    """Poll `path` until it answers 200; return the seconds since the process was spawned."""
    deadline = time.perf_counter() + timeout
    host, port = split_url(proc.url)
    while time.perf_counter() < deadline:
        if proc.popen.poll() is not None:
            raise RuntimeError(f"{proc.name} exited with status {proc.popen.returncode} before answering")
        try:
            conn = http.client.HTTPConnection(host, port, timeout=5)
            conn.request("GET", path, headers=headers or {})
            status = conn.getresponse().status
            conn.close()
            if status == 200:
                proc.ready_after = time.perf_counter() - proc.started
                return proc.ready_after
        except OSError:
            pass
        time.sleep(0.003)
    raise RuntimeError(f"{proc.name} did not answer 200 on {path} within {timeout:.0f} s")


def split_url(url: str) -> tuple[str, int]:
    hostport = url.split("://", 1)[1].split("/", 1)[0]
    host, port = hostport.rsplit(":", 1)
    return host, int(port)


def vm_rss_mb(pid: int, field_name: str = "VmRSS") -> float:
    """Resident memory of a process (and its children, e.g. a granian worker) in MiB, from /proc."""
    total = 0.0
    for p in [pid, *_children(pid)]:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith(field_name + ":"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            pass
    return total


def _children(pid: int) -> list[int]:
    try:
        kids = [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []
    return kids + [g for k in kids for g in _children(k)]


# --- one-request helper (keep-alive) ----------------------------------------------------------

class Client:
    """A keep-alive HTTP/1.1 client to one server; `call` returns (status, body bytes, seconds)."""

    def __init__(self, url: str, auth: str | None = DEMO_AUTH):
        self.host, self.port = split_url(url)
        self.auth = auth
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)

    def call(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes, float]:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if self.auth:
            headers["Authorization"] = self.auth
        started = time.perf_counter()
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            data = response.read()
        return response.status, data, time.perf_counter() - started

    def close(self) -> None:
        self.conn.close()


# --- load generation ------------------------------------------------------------------------

@dataclass
class Scenario:
    """One request shape: `body` may hold "{n}", replaced by a unique token per request."""

    name: str
    method: str
    path: str
    body: str | None = None
    unique: bool = False
    auth: str | None = DEMO_AUTH


@dataclass
class LoadResult:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    tool: str
    extra: dict[str, Any] = field(default_factory=dict)


def have_wrk() -> bool:
    return shutil.which("wrk") is not None and os.environ.get("BENCH_NO_WRK") != "1"


def load(url: str, scenario: Scenario, seconds: float, connections: int = CONNECTIONS,
         nonce: str = "0", workdir: Path | None = None) -> LoadResult:
    if have_wrk():
        return _load_wrk(url, scenario, seconds, connections, nonce, workdir)
    return _load_python(url, scenario, seconds, connections, nonce)


def _load_wrk(url: str, scenario: Scenario, seconds: float, connections: int, nonce: str,
              workdir: Path | None) -> LoadResult:
    env = dict(os.environ, BENCH_METHOD=scenario.method, BENCH_NONCE=nonce)
    env.pop("BENCH_BODY_FILE", None)
    env.pop("BENCH_AUTH", None)
    env.pop("BENCH_UNIQUE", None)
    if scenario.auth:
        env["BENCH_AUTH"] = scenario.auth
    body_file = None
    if scenario.body is not None:
        fd, name = tempfile.mkstemp(prefix="body-", suffix=".json", dir=workdir)
        with os.fdopen(fd, "w") as handle:
            handle.write(scenario.body)
        body_file = name
        env["BENCH_BODY_FILE"] = name
    if scenario.unique:
        env["BENCH_UNIQUE"] = "1"
    threads = max(1, min(2, connections))
    duration = max(1, round(seconds))
    argv = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s", "--timeout", "10s",
            "-s", str(LUA), url + scenario.path]
    try:
        out = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=duration + 60)
    finally:
        if body_file:
            os.unlink(body_file)
    line = next((line for line in out.stdout.splitlines() if line.startswith("BENCH_RESULT ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no result: {out.stdout[-2000:]} {out.stderr[-2000:]}")
    r = json.loads(line[len("BENCH_RESULT "):])
    errors = sum(r["errors"].values())
    return LoadResult(rps=r["requests"] / (r["duration_us"] / 1e6), p50_ms=r["p50_us"] / 1000,
                      p99_ms=r["p99_us"] / 1000, requests=r["requests"], errors=errors, tool="wrk",
                      extra=r["errors"])


def _load_python(url: str, scenario: Scenario, seconds: float, connections: int, nonce: str) -> LoadResult:
    host, port = split_url(url)
    latencies: list[list[float]] = [[] for _ in range(connections)]
    errors = [0] * connections
    start_gate = threading.Barrier(connections + 1)
    deadline_box: list[float] = [0.0]

    def worker(index: int) -> None:
        conn = http.client.HTTPConnection(host, port, timeout=30)
        headers = {"Content-Type": "application/json"} if scenario.body is not None else {}
        if scenario.auth:
            headers["Authorization"] = scenario.auth
        counter = 0
        start_gate.wait()
        deadline = deadline_box[0]
        mine = latencies[index]
        while True:
            now = time.perf_counter()
            if now >= deadline:
                break
            body = scenario.body
            if body is not None and scenario.unique:
                counter += 1
                body = body.replace("{n}", f"{nonce}_{index}_{counter}")
            try:
                conn.request(scenario.method, scenario.path, body=body.encode() if body else None,
                             headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status >= 400:
                    errors[index] += 1
            except (OSError, http.client.HTTPException):
                errors[index] += 1
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=30)
                continue
            mine.append(time.perf_counter() - now)
        conn.close()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(connections)]
    for t in threads:
        t.start()
    started = time.perf_counter()
    deadline_box[0] = started + seconds
    start_gate.wait()
    for t in threads:
        t.join(timeout=seconds + 60)
    elapsed = time.perf_counter() - started
    flat = sorted(x for per in latencies for x in per)
    return LoadResult(rps=len(flat) / elapsed, p50_ms=percentile(flat, 50) * 1000,
                      p99_ms=percentile(flat, 99) * 1000, requests=len(flat), errors=sum(errors),
                      tool="python")


# --- statistics and printing ----------------------------------------------------------------

def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    k = (len(sorted_values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


def median(values: list[float]) -> float:
    values = [v for v in values if v == v]
    return statistics.median(values) if values else float("nan")


def spread(values: list[float], fmt: str = "{:.0f}") -> str:
    values = [v for v in values if v == v]
    if not values:
        return "-"
    return f"{fmt.format(median(values))} ({fmt.format(min(values))}-{fmt.format(max(values))})"


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows, strict=False)]
    line = lambda cells: "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)  # noqa: E731
                                   for i, (c, w) in enumerate(zip(cells, widths, strict=False)))
    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, rows)])


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def code_version() -> str:
    """The commit measured, and whether the server's code differed from it (others edit the tree)."""
    def git(*args: str) -> str:
        out = subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True)
        return out.stdout.strip() if out.returncode == 0 else ""
    head = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", "mockserver", "fixtures")
    return f"code: commit {head}" + (" + uncommitted changes in mockserver/" if dirty else "")


def machine_line() -> str:
    load1 = os.getloadavg()[0]
    return (f"{code_version()}; machine: {os.cpu_count()} cores, load average {load1:.2f} at start; python "
            f"{sys.version.split()[0]}; load generator: "
            f"{'wrk (' + subprocess.run(['wrk', '-v'], capture_output=True, text=True).stdout.split()[1] + ')' if have_wrk() else 'python threads x http.client'}, "
            f"{CONNECTIONS} keep-alive connections")


def timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        out.append(time.perf_counter() - started)
    return out
