"""emma-mock scale table: the same requests with 1k, 100k and 1M touchpoints loaded.

    .venv/bin/python benchmarks/scale.py             # 1k, 100k, 1M; --db at 1k and 100k (~3-5 min)
    .venv/bin/python benchmarks/scale.py --quick     # 1k and 100k only, fewer requests (~1 min)
    .venv/bin/python benchmarks/scale.py --sizes 1000,1000000

A generator writes fixtures (account 100, 10 types, one member per 50 touchpoints) into
$BENCH_SCALE_DIR (default: <tmp>/emma-mock-bench-scale, reused between runs, never in the
repo). For each size it starts `python -m mockserver --fixtures F --port 0` and prints:
load time (spawn to first 200 of /__admin/health), resident memory (VmRSS after load; peak
VmHWM), reset time (POST /__admin/reset, median), and the p50 latency of sequential
keep-alive requests (random members and ids): GET a member's touchpoints (50) on its first
read (encoded from its records) and on repeated reads (from their kept JSON), GET a
touchpoint by id, POST a batch of 10, and `count=true` (a member's touchpoints, and the
account's members). Then, with `--db FILE` (a new file seeded from the same fixture), the
cost of one write (POST a batch of 10 / POST a type) at 1k and 100k.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import Client, log, machine_line, median, spawn, spread, table, vm_rss_mb, wait_ready

PER_MEMBER = 50
TYPES = 10
GENERATOR_VERSION = 1


def fixture_path(size: int) -> Path:
    folder = Path(os.environ.get("BENCH_SCALE_DIR") or Path(tempfile.gettempdir()) / "emma-mock-bench-scale")
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"touchpoints-{size}-v{GENERATOR_VERSION}.json"


def members_for(size: int) -> int:
    return max(1, (size + PER_MEMBER - 1) // PER_MEMBER)


def generate(size: int) -> Path:
    """A valid fixture with `size` touchpoints; written once, then reused."""
    path = fixture_path(size)
    if path.exists():
        return path
    started = time.perf_counter()
    base = datetime(2025, 1, 1, tzinfo=UTC)
    stamp = lambda seconds: (base + timedelta(seconds=seconds)).strftime("@D:%Y-%m-%dT%H:%M:%S")  # noqa: E731
    doc = {
        "accounts": [
            {"account_id": 100, "public_key": "demo-public-key", "private_key": "demo-private-key", "name": "Demo"},
            {"account_id": 101, "public_key": "other-public-key", "private_key": "other-private-key", "name": "Other"}],
        "touchpoint_types": [
            {"account_id": 100, "touchpoint_type_id": 300 + t, "type_name": f"type_{t}",
             "display_name": f"Type {t}", "created_at": stamp(t)} for t in range(TYPES)],
        "members": [
            {"account_id": 100, "member_id": 1000 + m, "email": f"member{m}@example.com", "status": "active",
             "member_since": stamp(m), "fields": {"first_name": f"M{m}"}} for m in range(members_for(size))],
    }
    touchpoints = []
    for i in range(size):
        at = stamp(86400 + i * 7)
        touchpoints.append({
            "account_id": 100, "touchpoint_id": i + 1, "member_id": 1000 + i // PER_MEMBER,
            "touchpoint_type_id": 300 + i % TYPES, "touchpoint_timestamp": at,
            "touchpoint_monetary_value": float(i % 100) if i % 3 else None,
            "mailing_id": 5000 + i % 17 if i % 4 == 0 else None,
            "attributes": {"page": f"/p/{i % 1000}"} if i % 2 else None, "inserted_at": at})
    doc["touchpoints"] = touchpoints
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(doc, separators=(",", ":")), encoding="utf-8")
    temporary.replace(path)
    log(f"  generated {path} ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - started:.1f} s")
    return path


def p50_ms(client: Client, make: callable, count: int) -> tuple[float, float]:
    """Sequential requests on one keep-alive connection: (p50 ms, p90 ms)."""
    times = []
    for i in range(count):
        method, path, body = make(i)
        status, data, seconds = client.call(method, path, body)
        if status != 200:
            raise RuntimeError(f"{method} {path} answered {status}: {data[:300]!r}")
        times.append(seconds * 1000)
    times.sort()
    return median(times), times[int(len(times) * 0.9)]


def batch(rng: random.Random, members: int) -> bytes:
    return json.dumps({"touchpoints": [
        {"member_id": 1000 + rng.randrange(members), "touchpoint_type_id": 300 + rng.randrange(TYPES),
         "touchpoint_monetary_value": 1.5, "attributes": {"bench": True}} for _ in range(10)]}).encode()


def measure(size: int, requests: int, resets: int, db: Path | None = None, writes: int = 0) -> dict:
    fixture = generate(size)
    members = members_for(size)
    argv = [sys.executable, "-m", "mockserver", "--port", "0", "--fixtures", str(fixture)]
    if db is not None:
        db.unlink(missing_ok=True)
        argv += ["--db", str(db)]
    proc = spawn(f"mock-{size}", argv, read_url=True)
    row: dict = {"size": size}
    try:
        row["load_s"] = wait_ready(proc, "/__admin/health", timeout=600)
        row["rss_mb"] = vm_rss_mb(proc.pid)
        rng = random.Random(size)
        client = Client(proc.url)
        if db is not None:
            row["db_mb"] = db.stat().st_size / 1e6
            p50_ms(client, lambda i: ("GET", "/100/touchpoints/300", None), 5)
            row["db_batch"] = p50_ms(client, lambda i: ("POST", "/100/touchpoints/members",
                                                        batch(rng, members)), writes)
            row["db_type"] = p50_ms(client, lambda i: ("POST", "/100/touchpoints", json.dumps(
                {"type_name": f"scale_{i}", "display_name": "Scale"}).encode()), writes)
            return row
        p50_ms(client, lambda i: ("GET", "/100/touchpoints/300", None), 20)  # warm-up, not counted
        # A member's page is encoded from its records on its first read, then answered from their
        # kept JSON. With 20 members at 1k nearly every random read is a repeat, at 1M nearly none
        # is: so first reads and repeated reads are measured apart, on the same random members.
        picks = [1000 + rng.randrange(members) for _ in range(requests)]
        first = list(dict.fromkeys(picks))
        row["member_first"] = p50_ms(client, lambda i: ("GET", f"/100/touchpoints/members/{first[i]}", None),
                                     len(first))
        row["member"] = p50_ms(client, lambda i: ("GET", f"/100/touchpoints/members/{picks[i]}", None), requests)
        row["by_id"] = p50_ms(client, lambda i: (
            "GET", f"/100/touchpoints/members/touchpoints/{rng.randrange(1, size + 1)}", None), requests)
        row["count_member"] = p50_ms(client, lambda i: (
            "GET", f"/100/touchpoints/members/{1000 + rng.randrange(members)}?count=true", None), requests)
        row["count_members"] = p50_ms(client, lambda i: ("GET", "/100/members?count=true", None), requests)
        row["batch"] = p50_ms(client, lambda i: ("POST", "/100/touchpoints/members", batch(rng, members)),
                              requests)
        reset_ms = []
        for _ in range(resets):
            status, _, seconds = client.call("POST", "/__admin/reset")
            assert status == 200
            reset_ms.append(seconds * 1000)
        row["reset_ms"] = reset_ms
        row["rss_after_reset_mb"] = vm_rss_mb(proc.pid)
        row["hwm_mb"] = vm_rss_mb(proc.pid, "VmHWM")
        client.close()
        return row
    finally:
        proc.stop()


def human(size: int) -> str:
    return f"{size // 1_000_000}M" if size >= 1_000_000 and size % 1_000_000 == 0 else (
        f"{size // 1000}k" if size % 1000 == 0 else str(size))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="1k and 100k, fewer requests")
    p.add_argument("--sizes", help="comma list of touchpoint counts (default 1000,100000,1000000)")
    p.add_argument("--db-sizes", help="comma list for the --db write cost (default 1000,100000)")
    p.add_argument("--requests", type=int, help="sequential requests per latency figure (default 300)")
    args = p.parse_args(argv)
    sizes = [int(s) for s in (args.sizes or ("1000,100000" if args.quick else "1000,100000,1000000")).split(",")]
    db_sizes = [int(s) for s in (args.db_sizes or "1000,100000").split(",") if s]
    requests = args.requests or (100 if args.quick else 300)

    print(f"\n== Scale table ({'quick' if args.quick else 'default'} run, {time.strftime('%Y-%m-%d %H:%M:%S')}) ==")
    print(machine_line())
    print(f"fixtures: {PER_MEMBER} touchpoints per member, {TYPES} types, in {fixture_path(0).parent}; "
          f"latencies: p50 of {requests} sequential keep-alive requests (p90 in brackets), ms")
    rows = []
    for size in sizes:
        for s in [size]:
            generate(s)
        log(f"  measuring {human(size)} ...")
        rows.append(measure(size, requests, resets=3 if size >= 1_000_000 else (5 if args.quick else 11)))

    lat = lambda pair: f"{pair[0]:.2f} ({pair[1]:.2f})"  # noqa: E731
    print(table(["touchpoints", "load s", "RSS MB", "peak MB", "reset ms (median)", "GET member 50, 1st read",
                 "GET member 50", "GET by id", "POST batch 10", "count member", "count members"],
                [[human(r["size"]), f"{r['load_s']:.2f}", f"{r['rss_mb']:.0f}", f"{r['hwm_mb']:.0f}",
                  spread(r["reset_ms"], "{:.1f}"), lat(r["member_first"]), lat(r["member"]), lat(r["by_id"]),
                  lat(r["batch"]),
                  lat(r["count_member"]), lat(r["count_members"])] for r in rows]))
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        print(f"{human(last['size'])} / {human(first['size'])} p50 ratios: GET member "
              f"{last['member'][0] / first['member'][0]:.2f} (1st read "
              f"{last['member_first'][0] / first['member_first'][0]:.2f}), GET by id {last['by_id'][0] / first['by_id'][0]:.2f}, "
              f"POST batch {last['batch'][0] / first['batch'][0]:.2f}, count member "
              f"{last['count_member'][0] / first['count_member'][0]:.2f}  (target at 1M: GET member and "
              "GET by id <= 1.5; load <= 20 s; RSS <= 1.5 GB)")

    if db_sizes:
        folder = Path(tempfile.mkdtemp(prefix="emma-bench-db-"))
        db_rows = []
        try:
            for size in db_sizes:
                writes = 30 if size <= 10_000 else (8 if args.quick else 15)
                log(f"  measuring --db {human(size)} ...")
                row = measure(size, 0, 0, db=folder / f"state-{size}.db.json", writes=writes)
                row["writes"] = writes
                db_rows.append(row)
        finally:
            for f in folder.iterdir():
                f.unlink()
            folder.rmdir()
        print("\n--db FILE (a new file seeded from the fixture): cost of one write, p50 (p90) of sequential "
              "requests, ms")
        print(table(["touchpoints", "start s (seeds the file)", "file MB", "writes", "POST batch 10", "POST type"],
                    [[human(r["size"]), f"{r['load_s']:.2f}", f"{r['db_mb']:.1f}", str(r["writes"]),
                      lat(r["db_batch"]), lat(r["db_type"])] for r in db_rows]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
