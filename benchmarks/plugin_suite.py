"""A user's suite of 300 tests through the pytest plugin, on this tree and on another checkout, side by side.

    .venv/bin/python benchmarks/plugin_suite.py --other /path/to/older/checkout [--tests 300] [--reps 3]

Each test uses `emma_mock` (reset before it) and makes two API calls, as a user's tests do: a
GET and a POST. The suite runs in-process (the plugin starts its server) and attached to a
running CLI server (`--emma-mock-url`, reset over HTTP before each test), once per checkout and
mode in each repetition, interleaved. Only the checkout's own plugin is loaded
(`PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 -p mockserver.testing.pytest_plugin`, the package taken from
PYTHONPATH), so both run with the same Python and dependencies. Prints the wall time of each
run and the median per mode.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import REPO, log, machine_line, median, spawn, unset_environ, wait_ready

TEST = '''
def test_{i}(emma_mock):
    got = emma_mock.session.get(f"{{emma_mock.base_url}}/touchpoints/members/444")
    assert got.status_code == 200
    made = emma_mock.session.post(f"{{emma_mock.base_url}}/touchpoints",
                                  json={{"type_name": "t{i}", "display_name": "T"}})
    assert made.status_code == 200
'''


def run_suite(checkout: Path, folder: Path, url: str | None) -> float:
    env = {k: v for k, v in unset_environ().items() if not k.startswith("PYTEST_")}
    env.update(PYTHONPATH=str(checkout), PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "mockserver.testing.pytest_plugin", "-p", "no:cacheprovider",
            *([f"--emma-mock-url={url}"] if url else []), str(folder)]
    started = time.perf_counter()
    out = subprocess.run(argv, cwd=folder, env=env, capture_output=True, text=True, timeout=900)
    took = time.perf_counter() - started
    if out.returncode != 0:
        raise SystemExit(f"{checkout}: the suite failed\n{out.stdout[-3000:]}\n{out.stderr[-2000:]}")
    return took


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--other", type=Path, required=True, help="another checkout of emma-mock (e.g. `git worktree add`)")
    p.add_argument("--tests", type=int, default=300)
    p.add_argument("--reps", type=int, default=3)
    args = p.parse_args()
    checkouts = {"this tree": REPO, "other": args.other.resolve()}
    print(f"{args.tests} tests through the plugin, {args.reps} repetitions; other = {checkouts['other']}; "
          f"{machine_line()}")
    folder = Path(tempfile.mkdtemp(prefix="emma-plugin-suite-"))
    (folder / "test_suite.py").write_text("".join(TEST.format(i=i) for i in range(args.tests)))
    times: dict[tuple[str, str], list[float]] = {}
    for rep in range(1, args.reps + 1):
        for name, checkout in checkouts.items():
            times.setdefault((name, "in-process"), []).append(run_suite(checkout, folder, None))
            env = dict(unset_environ(), PYTHONPATH=str(checkout))
            server = spawn(name, [sys.executable, "-m", "mockserver", "--port", "0", "--quiet"], env=env,
                           read_url=True)
            try:
                wait_ready(server, "/__admin/health")
                times.setdefault((name, "attached"), []).append(run_suite(checkout, folder, server.url))
            finally:
                server.stop()
            log(f"  rep {rep}: {name}: in-process {times[name, 'in-process'][-1]:.2f} s, "
                f"attached {times[name, 'attached'][-1]:.2f} s")
    print(f"\n{'mode':12} {'this tree':>10} {'other':>10}  this / other (median wall time of {args.tests} tests)")
    for mode in ("in-process", "attached"):
        mine, other = median(times["this tree", mode]), median(times["other", mode])
        print(f"{mode:12} {mine:9.2f}s {other:9.2f}s  {mine / other:.2f}")


if __name__ == "__main__":
    main()
