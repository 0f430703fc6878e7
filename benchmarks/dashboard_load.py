"""Three open dashboards on a big state while writes happen: the API's read p99 and the server's RSS.

    python benchmarks/dashboard_load.py [--touchpoints 300000] [--seconds 20] [--source DIR]

`--source DIR` runs the package found in DIR (an unpacked older commit, e.g.
`git archive main | tar -x -C /tmp/old`) for a before/after figure. Needs Chromium at
/usr/bin/chromium and Playwright. Bounded: one load, one run of `--seconds`.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
from common import bench_env, percentile, spawn, vm_rss_mb, wait_ready

MEMBERS = 1000


def fixture(folder: Path, touchpoints: int) -> Path:
    members = [{"account_id": 100, "member_id": 1000 + m, "email": f"m{m}@example.com"} for m in range(MEMBERS)]
    points = [{"account_id": 100, "touchpoint_id": t + 1, "member_id": 1000 + t % MEMBERS, "touchpoint_type_id": 1,
               "touchpoint_timestamp": "@D:2025-01-01T00:00:00", "touchpoint_monetary_value": 1.5}
              for t in range(touchpoints)]
    path = folder / "big.json"
    path.write_text(json.dumps({
        "accounts": [{"account_id": 100, "public_key": "demo-public-key", "private_key": "demo-private-key"}],
        "members": members, "touchpoint_types": [{"account_id": 100, "touchpoint_type_id": 1, "type_name": "t",
                                                  "display_name": "T"}], "touchpoints": points}))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--touchpoints", type=int, default=300_000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--source", type=Path, help="run the package in this folder instead of the working tree")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        env = bench_env((args.source,) if args.source else ())
        if args.source:
            env["PYTHONPATH"] = f"{args.source}:{env['PYTHONPATH']}"
        proc = spawn("mock", [sys.executable, "-m", "mockserver", "--port", "0", "--quiet",
                              "--fixtures", str(fixture(Path(folder), args.touchpoints))], env=env, read_url=True,
                     cwd=args.source)  # `python -m` looks in its working folder first
        try:
            wait_ready(proc, "/__admin/health")
            auth = ("demo-public-key", "demo-private-key")
            idle_rss = vm_rss_mb(proc.pid)
            latencies: list[float] = []
            peak = [idle_rss]
            stop = threading.Event()

            def write() -> None:
                while not stop.is_set():
                    requests.post(f"{proc.url}/100/touchpoints/members", auth=auth, timeout=30,
                                  json={"touchpoints": [{"member_id": 1000, "touchpoint_type_id": 1}]})
                    stop.wait(0.2)

            def read() -> None:
                with requests.Session() as session:
                    while not stop.is_set():
                        started = time.perf_counter()
                        session.get(f"{proc.url}/100/touchpoints/members/1001", auth=auth, timeout=30)
                        latencies.append((time.perf_counter() - started) * 1000)

            def watch_rss() -> None:
                while not stop.is_set():
                    peak[0] = max(peak[0], vm_rss_mb(proc.pid))
                    stop.wait(0.1)

            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
                pages = [browser.new_page() for _ in range(3)]
                for page in pages:
                    page.goto(proc.url + "/")
                    page.wait_for_selector("#accounts table", timeout=120_000)
                threads = [threading.Thread(target=work) for work in (write, read, watch_rss)]
                for thread in threads:
                    thread.start()
                end = time.monotonic() + args.seconds
                while time.monotonic() < end:
                    pages[0].wait_for_timeout(250)  # keeps the browser's event loop turning
                stop.set()
                for thread in threads:
                    thread.join()
                browser.close()
            latencies.sort()
            print(f"{args.touchpoints} touchpoints, 3 dashboards, {args.seconds:.0f} s, a write every 0.2 s: "
                  f"{len(latencies)} reads, p50 {percentile(latencies, 50):.1f} ms, "
                  f"p99 {percentile(latencies, 99):.1f} ms, max {latencies[-1]:.0f} ms; "
                  f"RSS idle {idle_rss:.0f} MiB, peak {peak[0]:.0f} MiB")
        finally:
            proc.stop()


if __name__ == "__main__":
    main()
