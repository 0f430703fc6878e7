"""emma-mock benchmark: the mock beside bare Flask and json-server, measured side by side.

    .venv/bin/python benchmarks/run.py                  # default: ~3.5 minutes
    .venv/bin/python benchmarks/run.py --quick          # ~1.5 minutes, 1 s runs
    .venv/bin/python benchmarks/run.py --scale          # then also the scale table (benchmarks/scale.py)
Results and their reading: docs/performance.md.

What it starts, each as its own process on a free 127.0.0.1 port:
  mock         `python -m mockserver --port 0 --fixtures F` (the CLI, 8 threads, auth on), where F is
               the default fixture plus 48 touchpoints so that member 444 has 50
  mock --db    the same with `--db FILE` (only for the POST scenarios)
  bare Flask   a Flask app on the same server (waitress, 8 threads) answering, on the same
               paths, the bytes the mock answered (benchmarks/bench_apps.py) - no auth, no store
  json-server  (when found: $JSON_SERVER, PATH, or /tmp/jsonserver/node_modules/.bin; install it with
               `npm install --prefix /tmp/jsonserver json-server@0.17`) on an equivalent data file

Load: wrk when on PATH (`apt-get install wrk`), 16 keep-alive connections, 2 threads,
benchmarks/wrk.lua for bodies, Basic auth and unique type names; else a Python keep-alive
client (16 threads x http.client). Scenarios: GET one touchpoint type, GET a member's 50
touchpoints, POST a batch of 10 touchpoints (json-server: POST one record, its only create),
POST a type (a unique type_name per request). Targets are interleaved within each round
and every figure is the median of the rounds (range in brackets); ratios are computed per
round, between runs made seconds apart, then their median is taken. State is reset before
every run (POST /__admin/reset; json-server is restarted on a fresh copy of its file).

It also prints start-up to first 200 and RSS at idle (median of 5 spawns), reset time (over HTTP
and in-process), and the per-test overhead of the `emma_mock` pytest fixture.
Environment: BENCH_NO_WRK=1 forces the Python client; JSON_SERVER=/path/to/json-server.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    DEMO_AUTH,
    HOST,
    REPO,
    Client,
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
    timed,
    vm_rss_mb,
    wait_ready,
)

DEFAULT_FIXTURE = REPO / "fixtures" / "default.json"
MEMBER = 444
EXTRA_TOUCHPOINTS = 48  # the default fixture gives member 444 two

SCENARIOS = ["get_type", "get_member", "post_batch", "post_type"]
TITLES = {"get_type": "GET one touchpoint type", "get_member": "GET a member's 50 touchpoints",
          "post_batch": "POST a batch of 10 touchpoints", "post_type": "POST a touchpoint type"}


# --- data ---------------------------------------------------------------------------------

def bench_fixture() -> dict:
    """The default fixture plus 48 touchpoints so that member 444 has 50 (ids above the default's)."""
    doc = json.loads(DEFAULT_FIXTURE.read_text(encoding="utf-8"))
    first = max(t["touchpoint_id"] for t in doc["touchpoints"]) + 1
    for i in range(EXTRA_TOUCHPOINTS):
        stamp = f"@D:2025-12-{4 + i // 24:02d}T{i % 24:02d}:00:00"
        doc["touchpoints"].append({
            "account_id": 100, "touchpoint_id": first + i, "member_id": MEMBER,
            "touchpoint_type_id": 300 if i % 2 else 200, "touchpoint_timestamp": stamp,
            "touchpoint_monetary_value": float(i), "mailing_id": None if i % 3 else 12345,
            "attributes": {"page": f"/pricing/{i}"} if i % 2 else None, "inserted_at": stamp})
    return doc


def json_server_data(doc: dict) -> dict:
    """The same records for json-server: each with the `id` field it routes by."""
    return {
        "members": [{"id": m["member_id"], **m} for m in doc["members"]],
        "touchpoint_types": [{"id": t["touchpoint_type_id"], **t} for t in doc["touchpoint_types"]],
        "touchpoints": [{"id": t["touchpoint_id"], **t} for t in doc["touchpoints"]],
    }


def batch_body() -> str:
    return json.dumps({"touchpoints": [
        {"member_id": 555, "touchpoint_type_id": 300, "touchpoint_monetary_value": 10.0 + i,
         "mailing_id": 12345, "attributes": {"source": "bench", "n": i}}
        for i in range(10)]})  # no touchpoint_timestamp: "now", so each insert appends to the member's index


ONE_TOUCHPOINT = json.dumps({"account_id": 100, "member_id": 555, "touchpoint_type_id": 300,
                             "touchpoint_monetary_value": 10.0, "mailing_id": None,
                             "touchpoint_timestamp": "@D:2025-12-10T10:00:00",
                             "attributes": {"source": "bench", "n": 0}, "inserted_at": "@D:2025-12-10T10:00:00"})
TYPE_BODY = '{"type_name": "bench_{n}", "display_name": "Bench {n}"}'


def mock_scenarios() -> dict[str, Scenario]:
    return {
        "get_type": Scenario("get_type", "GET", "/100/touchpoints/300"),
        "get_member": Scenario("get_member", "GET", f"/100/touchpoints/members/{MEMBER}"),
        "post_batch": Scenario("post_batch", "POST", "/100/touchpoints/members", batch_body()),
        "post_type": Scenario("post_type", "POST", "/100/touchpoints", TYPE_BODY, unique=True),
    }


def json_server_scenarios() -> dict[str, Scenario]:
    return {
        "get_type": Scenario("get_type", "GET", "/touchpoint_types/300", auth=None),
        "get_member": Scenario("get_member", "GET", f"/touchpoints?member_id={MEMBER}", auth=None),
        "post_batch": Scenario("post_batch", "POST", "/touchpoints", ONE_TOUCHPOINT, auth=None),
        "post_type": Scenario("post_type", "POST", "/touchpoint_types", TYPE_BODY, unique=True, auth=None),
    }


def find_json_server() -> str | None:
    for candidate in (os.environ.get("JSON_SERVER"), shutil.which("json-server"),
                      "/tmp/jsonserver/node_modules/.bin/json-server"):
        if candidate and Path(candidate).exists():
            return candidate
    return None


# --- targets ------------------------------------------------------------------------------

def spawn_app(kind: str, fixture: Path | None = None, db: Path | None = None, bodies: Path | None = None) -> Proc:
    """The mock (kind "mock": the CLI) or bare Flask ("bare") on the same server (waitress, 8 threads)."""
    env = bench_env()
    if bodies:
        env["BENCH_BARE_BODIES"] = str(bodies)
    if kind == "mock":
        argv = [sys.executable, "-m", "mockserver", "--port", "0"]
        if fixture:
            argv += ["--fixtures", str(fixture)]
        if db:
            argv += ["--db", str(db)]
        return spawn(kind, argv, env=env, read_url=True)
    return spawn(kind, [sys.executable, str(REPO / "benchmarks" / "serve.py"), "emma-waitress", "bare",
                        "--port", "0", "--threads", "8"], env=env, read_url=True)


class Target:
    """One server under test: how to start it, its scenarios, and how to reset it before a run."""

    def __init__(self, name: str, scenarios: dict[str, Scenario]):
        self.name = name
        self.scenarios = scenarios
        self.proc: Proc | None = None

    @property
    def url(self) -> str:
        return self.proc.url

    def start(self) -> None:
        raise NotImplementedError

    def reset(self, scenario: str) -> None:
        pass

    def stop(self) -> None:
        if self.proc:
            self.proc.stop()


class MockTarget(Target):
    def __init__(self, name: str, fixture: Path, db: Path | None = None):
        super().__init__(name, mock_scenarios())
        self.fixture, self.db = fixture, db

    def start(self) -> None:
        self.proc = spawn_app("mock", self.fixture, self.db)
        wait_ready(self.proc, "/__admin/health")

    def reset(self, scenario: str) -> None:
        client = Client(self.url, auth=None)
        status, body, _ = client.call("POST", "/__admin/reset")
        client.close()
        if status != 200:
            raise RuntimeError(f"{self.name}: reset answered {status} {body[:200]!r}")


class BareTarget(Target):
    def __init__(self, bodies_file: Path):
        super().__init__("bare Flask", mock_scenarios())
        self.bodies_file = bodies_file

    def start(self) -> None:
        self.proc = spawn_app("bare", bodies=self.bodies_file)
        wait_ready(self.proc, "/100/touchpoints/300")


class JsonServerTarget(Target):
    def __init__(self, binary: str, data: dict, workdir: Path):
        super().__init__("json-server", json_server_scenarios())
        self.binary, self.data, self.workdir = binary, data, workdir
        self.file = workdir / "json-server-db.json"

    def start(self) -> None:
        self.file.write_text(json.dumps(self.data, indent=2), encoding="utf-8")
        port = free_port()
        self.proc = spawn(self.name, [self.binary, "--host", HOST, "--port", str(port), "--quiet",
                                      str(self.file)], cwd=self.workdir, url=f"http://{HOST}:{port}")
        wait_ready(self.proc, "/touchpoint_types/300")

    def reset(self, scenario: str) -> None:
        if scenario.startswith("post"):  # back to a fresh data file: a restart, as the peer has no reset
            self.stop()
            self.start()


# --- measurements -------------------------------------------------------------------------

def capture_bodies(mock: MockTarget, path: Path) -> dict[str, int]:
    """Ask the mock each scenario once; bare Flask will answer the same bytes on the same paths."""
    routes, sizes = [], {}
    client = Client(mock.url)
    for key, sc in mock.scenarios.items():
        body = sc.body.replace("{n}", "capture") if sc.body else None
        status, data, _ = client.call(sc.method, sc.path, body.encode() if body else None)
        if status != 200:
            raise RuntimeError(f"mock answered {status} to {sc.method} {sc.path}: {data[:300]!r}")
        if key == "get_member" and len(json.loads(data)) != 50:
            raise RuntimeError("member 444 should have 50 touchpoints in the bench fixture")
        routes.append([sc.method, sc.path, data.decode()])
        sizes[key] = len(data)
    client.close()
    mock.reset("")
    path.write_text(json.dumps(routes), encoding="utf-8")
    return sizes


def check_target(target: Target) -> dict[str, int]:
    """One request per scenario: each must succeed, else the load figures would measure errors."""
    sizes = {}
    client = Client(target.url, auth=None)
    for key, sc in target.scenarios.items():
        client.auth = sc.auth
        body = sc.body.replace("{n}", "check") if sc.body else None
        status, data, _ = client.call(sc.method, sc.path, body.encode() if body else None)
        if status not in (200, 201):
            raise RuntimeError(f"{target.name} answered {status} to {sc.method} {sc.path}: {data[:300]!r}")
        sizes[key] = len(data)
    client.close()
    return sizes


def throughput(targets: list[Target], rounds: int, seconds: float, workdir: Path,
               db_target: Target | None) -> dict[str, dict[str, list[LoadResult]]]:
    results: dict[str, dict[str, list[LoadResult]]] = {s: {} for s in SCENARIOS}
    for target in targets + ([db_target] if db_target else []):  # warm-up: 1 s each, not counted
        load(target.url, target.scenarios["get_type"], 1, workdir=workdir)
    for r in range(rounds):
        for scenario in SCENARIOS:
            runners = targets + ([db_target] if db_target and scenario.startswith("post") else [])
            for target in runners:
                target.reset(scenario)
                res = load(target.url, target.scenarios[scenario], seconds, nonce=f"r{r}", workdir=workdir)
                results[scenario].setdefault(target.name, []).append(res)
                log(f"  round {r + 1}/{rounds} {scenario:<10} {target.name:<11} {res.rps:8.0f} req/s  "
                    f"p50 {res.p50_ms:6.2f} ms  p99 {res.p99_ms:6.2f} ms"
                    + (f"  ERRORS {res.errors} {res.extra}" if res.errors else ""))
    return results


def ratio_cells(results: dict[str, list[LoadResult]], a: str, b: str) -> str:
    if a not in results or b not in results:
        return "-"
    ratios = [x.rps / y.rps for x, y in zip(results[a], results[b], strict=False) if y.rps]
    return spread(ratios, "{:.2f}")


def print_throughput(results: dict[str, dict[str, list[LoadResult]]], rounds: int, seconds: float) -> None:
    print(f"\n== Throughput: {rounds} rounds x {seconds:.0f} s per run; median (min-max) over rounds ==")
    rows = []
    for scenario in SCENARIOS:
        for i, (name, runs) in enumerate(results[scenario].items()):
            errors = sum(x.errors for x in runs)
            rows.append([TITLES[scenario] if i == 0 else "", name, spread([x.rps for x in runs]),
                         f"{median([x.p50_ms for x in runs]):.2f}", f"{median([x.p99_ms for x in runs]):.2f}",
                         str(errors)])
    print(table(["scenario", "target", "req/s", "p50 ms", "p99 ms", "errors"], rows))
    print("\nratios of req/s, per round, median (min-max):")
    rows = []
    for scenario in SCENARIOS:
        res = results[scenario]
        rows.append([TITLES[scenario], ratio_cells(res, "mock", "bare Flask"), ratio_cells(res, "mock", "json-server"),
                     ratio_cells(res, "mock --db", "json-server") if scenario.startswith("post") else ""])
    print(table(["scenario", "mock / bare Flask", "mock / json-server", "mock --db / json-server"], rows))
    print("  (json-server has no batch create: its POST creates one record, so 'POST a batch' compares a "
          "request of 10 touchpoints with json-server's request of 1)")


def startup(json_server: str | None, js_data: dict, workdir: Path, bodies: Path, spawns: int) -> None:
    """Process start to the first 200 of GET one type, and RSS at idle then; median of `spawns`, interleaved."""
    times: dict[str, list[float]] = {"mock": [], "bare Flask": [], "json-server": []}
    rss: dict[str, list[float]] = {name: [] for name in times}

    def measure(name: str, proc: Proc, path: str, headers: dict[str, str] | None = None) -> None:
        times[name].append(wait_ready(proc, path, headers))
        time.sleep(0.3)  # idle: the first answer's garbage settled
        rss[name].append(vm_rss_mb(proc.pid))
        proc.stop()

    for _ in range(spawns):
        measure("mock", spawn_app("mock"), "/100/touchpoints/300", {"Authorization": DEMO_AUTH})
        measure("bare Flask", spawn_app("bare", bodies=bodies), "/100/touchpoints/300")
        if json_server:
            file = workdir / "json-server-start.json"
            file.write_text(json.dumps(js_data), encoding="utf-8")
            port = free_port()
            measure("json-server", spawn("json-server", [json_server, "--host", HOST, "--port", str(port), "--quiet",
                                                         str(file)], cwd=workdir, url=f"http://{HOST}:{port}"),
                    "/touchpoint_types/300")
    print(f"\n== Start-up: process spawn to first 200 of GET one type, and RSS at idle; median (min-max) of "
          f"{spawns} spawns ==")
    rows = [[name, spread([t * 1000 for t in v]), spread(rss[name])] for name, v in times.items() if v]
    print(table(["server", "start-up ms", "RSS MB"], rows))
    delta = (median(times["mock"]) - median(times["bare Flask"])) * 1000
    print(f"mock - bare Flask: {delta:+.0f} ms (target: <= +100 ms); mock RSS at idle target: <= 100 MB")


def reset_times(repeat: int) -> None:
    """Reset of the default fixture: in-process (Store / Mock) and over HTTP (keep-alive and per call)."""
    from mockserver.config import Config
    from mockserver.serving.app import create_app
    from mockserver.testing import MockServer
    from mockserver.wire import mock_of

    app = create_app(Config())
    mock = mock_of(app)
    store_ms = [t * 1000 for t in timed(mock.store.reset, repeat * 5)]
    mock_ms = [t * 1000 for t in timed(mock.reset, repeat * 5)]

    proc = spawn("mock", [sys.executable, "-m", "mockserver", "--port", "0"], read_url=True)
    wait_ready(proc, "/__admin/health")
    client = Client(proc.url, auth=None)
    client.call("POST", "/__admin/reset")
    http_ms = [client.call("POST", "/__admin/reset")[2] * 1000 for _ in range(repeat)]
    client.close()
    proc.stop()

    import requests

    with MockServer() as server:
        server.reset()
        helper_ms = [t * 1000 for t in timed(server.reset, repeat)]
        url = server.url + "/__admin/reset"
        requests.post(url, timeout=30)
        fresh_ms = [t * 1000 for t in timed(lambda: requests.post(url, timeout=30).raise_for_status(),
                                            max(20, repeat // 4))]

    print("\n== Reset of the default fixture; median (min-max) ==")
    print(table(["how", "ms"], [
        [f"Store.reset() in process ({len(store_ms)} calls)", spread(store_ms, "{:.3f}")],
        [f"Mock.reset() in process: all POST /__admin/reset does ({len(mock_ms)} calls)", spread(mock_ms, "{:.3f}")],
        [f"MockServer.reset(), what emma_mock calls per test ({len(helper_ms)} calls)", spread(helper_ms, "{:.3f}")],
        [f"POST /__admin/reset to the CLI process, keep-alive ({len(http_ms)} calls)", spread(http_ms, "{:.3f}")],
        [f"requests.post(/__admin/reset), new connection each, server in a thread ({len(fresh_ms)} calls)",
         spread(fresh_ms, "{:.3f}")],
    ]))
    print("target: reset of the default fixture < 5 ms")


SETUP_TIMER = """import json, os, time
import pytest

_times = {}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    started = time.perf_counter()  # setup, call, teardown and reporting of one test
    yield
    _times[item.nodeid] = time.perf_counter() - started


def pytest_sessionfinish(session):
    with open(os.environ["BENCH_SETUP_TIMES"], "w") as handle:
        json.dump(_times, handle)
"""


def pytest_overhead(workdir: Path, n: int, reps: int) -> None:
    """Wall time of N trivial tests using `emma_mock` minus N without it, per test (slope between 1 and N)."""
    folder = workdir / "pytest-overhead"
    folder.mkdir(exist_ok=True)
    (folder / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")
    (folder / "conftest.py").write_text(SETUP_TIMER)

    def write(name: str, count: int, fixture: bool) -> Path:
        file = folder / f"test_{name}.py"
        arg = "emma_mock" if fixture else ""
        file.write_text("".join(f"def test_{i}({arg}):\n    pass\n\n" for i in range(count)))
        return file

    files = {(fx, c): write(f"{'with' if fx else 'without'}_{c}", c, fx) for fx in (True, False) for c in (1, n)}
    walls: dict[tuple[bool, int], list[float]] = {k: [] for k in files}
    setups: dict[bool, list[float]] = {True: [], False: []}
    firsts: dict[bool, list[float]] = {True: [], False: []}
    env = bench_env()
    times_file = folder / "setup-times.json"
    env["BENCH_SETUP_TIMES"] = str(times_file)
    for _ in range(reps):
        for key, file in files.items():
            times_file.unlink(missing_ok=True)
            started = time.perf_counter()
            out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-c", str(folder / "pytest.ini"),
                                  "--rootdir", str(folder), str(file)], cwd=folder, env=env,
                                 capture_output=True, text=True, timeout=600)
            walls[key].append(time.perf_counter() - started)
            if out.returncode != 0:
                raise RuntimeError(f"pytest failed:\n{out.stdout[-3000:]}\n{out.stderr[-2000:]}")
            if key[1] == n:
                values = sorted(json.loads(times_file.read_text()).values())
                setups[key[0]] += values[:-1]  # the slowest is the first test's: it starts the session server
                firsts[key[0]].append(values[-1])
    w1, wn = median(walls[True, 1]), median(walls[True, n])
    o1, on = median(walls[False, 1]), median(walls[False, n])
    per_test = ((wn - w1) - (on - o1)) / (n - 1) * 1000
    print(f"\n== emma_mock pytest fixture: wall time of pytest runs, median of {reps} ==")
    print(table(["file", "s"], [["1 test with emma_mock", f"{w1:.3f}"], [f"{n} tests with emma_mock", f"{wn:.3f}"],
                                ["1 test without", f"{o1:.3f}"], [f"{n} tests without", f"{on:.3f}"]]))
    setup_with, setup_without = median(setups[True]) * 1000, median(setups[False]) * 1000
    print(f"one test, setup to teardown (pytest hook timer, median of {len(setups[True])}): with emma_mock "
          f"{setup_with:.3f} ms, without {setup_without:.3f} ms -> emma_mock adds {setup_with - setup_without:.3f} ms; "
          f"first test (starts the session's server): {median(firsts[True]) * 1000:.1f} ms")
    print(f"per-test overhead of emma_mock from wall times: {per_test:.2f} ms "
          f"(= ((with {n} - with 1) - (without {n} - without 1)) / {n - 1}; pytest start-up noise "
          "on a busy machine swamps this one, the hook timer above is the figure to read)")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="1 s runs, fewer repetitions (~1-1.5 min)")
    p.add_argument("--rounds", type=int, help="rounds of every scenario x target (default 3)")
    p.add_argument("--seconds", type=float, help="duration of one load run (default 4; --quick 1)")
    p.add_argument("--scale", action="store_true", help="also print the scale table (benchmarks/scale.py)")
    p.add_argument("--skip", default="", help="comma list of sections to skip: throughput,startup,reset,pytest")
    args = p.parse_args()
    rounds = args.rounds or 3
    seconds = args.seconds or (1 if args.quick else 4)
    skip = set(filter(None, args.skip.split(",")))

    print(f"emma-mock benchmark ({'quick' if args.quick else 'default'} run, "
          f"{time.strftime('%Y-%m-%d %H:%M:%S %Z')})")
    print(machine_line())
    print("mock and bare Flask served by waitress, 8 threads")
    json_server = find_json_server()
    print(f"json-server: {json_server or 'not found (its columns are left out)'}")

    workdir = Path(tempfile.mkdtemp(prefix="emma-bench-"))
    targets: list[Target] = []
    db_target = None
    try:
        doc = bench_fixture()
        fixture = workdir / "bench-fixture.json"
        fixture.write_text(json.dumps(doc), encoding="utf-8")
        js_data = json_server_data(doc)
        bodies = workdir / "bare-bodies.json"

        mock = MockTarget("mock", fixture)
        mock.start()
        targets.append(mock)
        sizes = capture_bodies(mock, bodies)
        bare = BareTarget(bodies)
        bare.start()
        targets.append(bare)
        if json_server:
            js = JsonServerTarget(json_server, js_data, workdir)
            js.start()
            targets.append(js)
        db_target = MockTarget("mock --db", fixture, db=workdir / "bench.db.json")
        db_target.start()
        checked = {t.name: check_target(t) for t in [*targets, db_target]}
        for t in [*targets, db_target]:
            t.reset("post")
        print("response sizes in bytes (mock = bare Flask by construction): " + "; ".join(
            f"{k} mock {sizes[k]}" + (f", json-server {checked['json-server'][k]}" if json_server else "")
            for k in SCENARIOS))

        if "throughput" not in skip:
            results = throughput(targets, rounds, seconds, workdir, db_target)
            print_throughput(results, rounds, seconds)
        for t in [*targets, db_target]:
            t.stop()
        targets, db_target = [], None

        if "startup" not in skip:
            startup(json_server, js_data, workdir, bodies, 5)
        if "reset" not in skip:
            reset_times(100 if args.quick else 300)
        if "pytest" not in skip:
            pytest_overhead(workdir, 50 if args.quick else 200, 3)
    finally:
        for t in targets + ([db_target] if db_target else []):
            t.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    if args.scale:
        sys.stdout.flush()
        import scale
        return scale.main(["--quick"] if args.quick else [])
    return 0


if __name__ == "__main__":
    sys.exit(main())
