"""Which WSGI server should serve the mock? The same app (`create_app`, default fixture, auth on)
under each candidate, one process each, loaded side by side with wrk.

    .venv/bin/python benchmarks/wsgi_servers.py --install   # once: temp venv with cheroot, gunicorn, granian, gevent
    .venv/bin/python benchmarks/wsgi_servers.py             # ~3 minutes
    .venv/bin/python benchmarks/wsgi_servers.py --quick     # ~1 minute

Candidates: waitress with the project's own `mockserver.serving.server.Server` (what the CLI runs) at 4
and 8 threads, cheroot (8 threads), gevent's pywsgi (greenlets in one thread), gunicorn gthread
(1 worker, 8 threads), granian WSGI (1 worker, its default threads), Flask's dev server
(werkzeug, threaded, access log off).
A candidate whose package is not importable is listed as skipped. waitress and the Flask
dev server run from the interpreter running this script (the dev venv); the others from the
first of: --python, $BENCH_WSGI_PYTHON, the dev venv, /tmp/emma-mock-wsgi-venv (made by
--install: `pip install flask waitress tinydb requests cheroot gunicorn granian gevent` into a
temp venv; the working tree's `mockserver` is used through PYTHONPATH, nothing is installed
from the repo). Load: GET one touchpoint type (`/100/touchpoints/300`, Basic auth), wrk,
16 keep-alive connections, servers interleaved within each round, medians over rounds;
start-up: spawn to first 200 of the same request, median of 5 spawns.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    DEMO_AUTH,
    HERE,
    HOST,
    LoadResult,
    Proc,
    Scenario,
    bench_env,
    free_port,
    load,
    log,
    machine_line,
    median,
    spawn,
    spread,
    table,
    vm_rss_mb,
    wait_ready,
)

TEMP_VENV = Path(tempfile.gettempdir()) / "emma-mock-wsgi-venv"
EXTRAS = ["flask", "waitress", "tinydb", "requests", "cheroot", "gunicorn", "granian", "gevent"]
PATH = "/100/touchpoints/300"


@dataclass
class Candidate:
    name: str
    module: str  # what must be importable
    argv: callable  # (python, port) -> argv
    own_python: bool = False  # run from this script's interpreter


def serve_py(server: str, threads: int):
    return lambda python, port: [python, str(HERE / "serve.py"), server, "mock", "--port", str(port),
                                 "--threads", str(threads)]


CANDIDATES = [
    Candidate("waitress, 4 threads (emma Server)", "waitress", serve_py("emma-waitress", 4), own_python=True),
    Candidate("waitress, 8 threads (emma Server, CLI default)", "waitress", serve_py("emma-waitress", 8),
              own_python=True),
    Candidate("cheroot, 8 threads", "cheroot", serve_py("cheroot", 8)),
    Candidate("gevent pywsgi (greenlets, not patched)", "gevent", serve_py("gevent", 8)),
    Candidate("gunicorn gthread, 1 worker x 8 threads", "gunicorn", lambda python, port: [
        python, "-m", "gunicorn", "--workers", "1", "--worker-class", "gthread", "--threads", "8",
        "--bind", f"{HOST}:{port}", "--log-level", "warning", "wsgi_mock:app"]),
    Candidate("granian WSGI, 1 worker", "granian", lambda python, port: [
        python, "-m", "granian", "--interface", "wsgi", "--workers", "1", "--host", HOST, "--port", str(port),
        "--log-level", "warning", "--no-access-log", "wsgi_mock:app"]),
    Candidate("Flask dev server (threaded)", "werkzeug", serve_py("flask-dev", 8), own_python=True),
]


def importable(python: str, module: str) -> bool:
    return subprocess.run([python, "-c", f"import {module}"], capture_output=True).returncode == 0


def install() -> None:
    if not (TEMP_VENV / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(TEMP_VENV)], check=True)
    subprocess.run([str(TEMP_VENV / "bin" / "python"), "-m", "pip", "install", "-q", *EXTRAS], check=True)
    log(f"installed {', '.join(EXTRAS)} into {TEMP_VENV}")


def pick_python(explicit: str | None, module: str) -> str | None:
    import os
    for python in (explicit, os.environ.get("BENCH_WSGI_PYTHON"), sys.executable, str(TEMP_VENV / "bin" / "python")):
        if python and Path(python).exists() and importable(python, module):
            return python
    return None


def start(candidate: Candidate, python: str) -> Proc:
    port = free_port()
    proc = spawn(candidate.name, candidate.argv(python, port), env=bench_env(), cwd=HERE,
                 url=f"http://{HOST}:{port}")
    wait_ready(proc, PATH, {"Authorization": DEMO_AUTH}, timeout=60)
    return proc


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="WSGI server comparison for the mock")
    p.add_argument("--quick", action="store_true", help="3 rounds of 2 s, 3 spawns (~1 min)")
    p.add_argument("--install", action="store_true", help=f"first pip-install the candidates into {TEMP_VENV}")
    p.add_argument("--python", help="interpreter that has cheroot / gunicorn / granian")
    p.add_argument("--rounds", type=int)
    p.add_argument("--seconds", type=float)
    p.add_argument("--spawns", type=int)
    args = p.parse_args(argv)
    if args.install:
        install()
    rounds = args.rounds or (3 if args.quick else 5)
    seconds = args.seconds or (2 if args.quick else 5)
    spawns = args.spawns or (3 if args.quick else 5)

    print(f"emma-mock WSGI server comparison ({'quick' if args.quick else 'default'} run, "
          f"{time.strftime('%Y-%m-%d %H:%M:%S %Z')})")
    print(machine_line())
    chosen: list[tuple[Candidate, str]] = []
    for c in CANDIDATES:
        python = sys.executable if c.own_python else pick_python(args.python, c.module)
        if python and importable(python, c.module):
            chosen.append((c, python))
        else:
            print(f"skipped (not installed; try --install): {c.name}")
    for c, python in chosen:
        if not c.own_python:
            version = subprocess.run([python, "-c", f"import importlib.metadata as m; print(m.version('{c.module}'))"],
                                     capture_output=True, text=True).stdout.strip()
            print(f"{c.name}: {c.module} {version} from {python}")

    scenario = Scenario("get_type", "GET", PATH)
    results: dict[str, list[LoadResult]] = {c.name: [] for c, _ in chosen}
    rss: dict[str, float] = {}
    procs: dict[str, Proc] = {}
    try:
        for c, python in chosen:
            procs[c.name] = start(c, python)
            load(procs[c.name].url, scenario, 1)  # warm-up, not counted
        for r in range(rounds):
            for c, _ in chosen:
                res = load(procs[c.name].url, scenario, seconds)
                results[c.name].append(res)
                log(f"  round {r + 1}/{rounds} {c.name:<48} {res.rps:7.0f} req/s p50 {res.p50_ms:6.2f} "
                    f"p99 {res.p99_ms:6.2f}" + (f" ERRORS {res.errors}" if res.errors else ""))
        for c, _ in chosen:
            rss[c.name] = vm_rss_mb(procs[c.name].pid)
    finally:
        for proc in procs.values():
            proc.stop()

    startup: dict[str, list[float]] = {c.name: [] for c, _ in chosen}
    for _ in range(spawns):
        for c, python in chosen:
            proc = start(c, python)
            startup[c.name].append(proc.ready_after * 1000)
            proc.stop()

    base = results[chosen[1][0].name] if len(chosen) > 1 else None
    rows = []
    for c, _ in chosen:
        runs = results[c.name]
        rel = spread([x.rps / y.rps for x, y in zip(runs, base, strict=False)], "{:.2f}") if base else "-"
        rows.append([c.name, spread([x.rps for x in runs]), rel, f"{median([x.p50_ms for x in runs]):.2f}",
                     f"{median([x.p99_ms for x in runs]):.2f}", str(sum(x.errors for x in runs)),
                     spread(startup[c.name]), f"{rss[c.name]:.0f}"])
    print(f"\n== GET one touchpoint type ({PATH}), wrk 16 connections, {rounds} rounds x {seconds:.0f} s; "
          f"median (min-max); start-up median of {spawns} ==")
    print(table(["server", "req/s", "÷ waitress 8", "p50 ms", "p99 ms", "errors", "start-up ms", "RSS MB"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
