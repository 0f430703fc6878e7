"""Soak: many requests against a server subprocess, its resident memory sampled from /proc.

A mix of reads, writes (each create followed by its delete, so the state
stays the same size), errors of every kind and journal reads goes over
keep-alive connections on 127.0.0.1. The journal fills during the warm-up
(1,000 entries) and must then stay put; so must RSS. A soak is long, so only
`-m slow` (which .ci/run runs) runs it: 20k requests.
"""
from __future__ import annotations

import base64
import http.client
import json
import threading
import time

import pytest

from helpers import DEMO_AUTH, OTHER_AUTH, CLIServer

AUTH = {"Authorization": "Basic " + base64.b64encode(":".join(DEMO_AUTH).encode()).decode()}
OTHER = {"Authorization": "Basic " + base64.b64encode(":".join(OTHER_AUTH).encode()).decode()}
WRONG = {"Authorization": "Basic " + base64.b64encode(b"demo-public-key:nope").decode()}
CLIENTS = 2


def _client(url: str, count: int, index: int, errors: list, stop: threading.Event) -> None:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    assert host == "127.0.0.1"
    connection = http.client.HTTPConnection(host, int(port), timeout=30)

    def call(method: str, path: str, body: bytes | None = None, headers: dict | None = None,
             expect: int = 200) -> bytes:
        connection.request(method, path, body=body, headers=headers if headers is not None else AUTH)
        response = connection.getresponse()
        data = response.read()
        if response.status != expect or response.getheader("Content-Type") != "application/json":
            errors.append((method, path, response.status, data[:200]))
        return data

    try:
        n = i = 0  # n counts requests, i steps of the mix
        while n < count and not stop.is_set():
            step = i % 20
            i += 1
            if step == 0:
                created = json.loads(call("POST", "/100/touchpoints/members", json.dumps({"touchpoints": [
                    {"member_id": 444, "touchpoint_type_id": 300, "attributes": {"client": index, "n": n}}]}).encode()))
                call("DELETE", f"/100/touchpoints/members/touchpoints/{created[0]['touchpoint_id']}")
                n += 1
            elif step == 1:
                created = json.loads(call("POST", "/100/touchpoints", json.dumps(
                    {"type_name": f"soak_{index}_{n}", "display_name": "Soak"}).encode()))
                call("DELETE", f"/100/touchpoints/{created['touchpoint_type_id']}")
                n += 1
            elif step == 2:
                call("POST", "/100/members/add", b'{"email": "ann.smith@example.com", "fields": {"soak": 1}}')
            elif step == 3:
                call("POST", "/100/touchpoints", b'{"type_name": ', expect=400)
            elif step == 4:
                call("GET", f"/100/touchpoints/{1_000_000 + n}", expect=404)
            elif step == 5:
                call("GET", "/100/touchpoints", headers=WRONG, expect=401)
            elif step == 6:
                call("GET", "/100/touchpoints", headers=OTHER, expect=403)
            elif step == 7:
                call("PATCH", "/100/touchpoints", expect=405)
            elif step == 8:
                call("GET", f"/100/touchpoints/members/444?start=0&end=5&n={n}")
            elif step == 9:
                call("GET", "/100/members?count=true")
            elif step == 10 and index == 0 and i % 200 == 11:
                call("GET", "/__admin/requests?status=404", headers={})
            elif step == 11:
                call("GET", f"/100/touchpoints/members/touchpoints/1?x={'y' * 200}")
            elif step == 12:
                call("POST", "/100/touchpoints/members", json.dumps({"touchpoints": [
                    {"member_id": 999_999, "touchpoint_type_id": 300}]}).encode(), expect=400)
            else:
                call("GET", "/100/touchpoints/300")
            n += 1
    except Exception as exc:
        errors.append(("client", index, repr(exc)))
    finally:
        connection.close()


def _soak(total: int, time_limit: float, max_growth_kib: int) -> dict:
    with CLIServer() as server:
        errors: list = []
        stop = threading.Event()
        per_client = total // CLIENTS
        threads = [threading.Thread(target=_client, args=(server.url, per_client, i, errors, stop), daemon=True)
                   for i in range(CLIENTS)]
        samples: list[tuple[float, int]] = []
        started = time.monotonic()
        for thread in threads:
            thread.start()
        while any(thread.is_alive() for thread in threads):
            samples.append((time.monotonic() - started, server.rss_kib()))
            if time.monotonic() - started > time_limit:
                stop.set()
            time.sleep(0.25)
        for thread in threads:
            thread.join(timeout=30)
        elapsed = time.monotonic() - started
        samples.append((elapsed, server.rss_kib()))
        state = json.loads(http_get(server.url, "/__admin/state"))
        journal = json.loads(http_get(server.url, "/__admin/requests?count=true"))
    assert not errors, errors[:5]
    assert not stop.is_set(), f"not finished within {time_limit} s"
    # the state is as it started (every create was deleted) and the journal is at its bound
    assert len(state["touchpoints"]) == 4 and len(state["touchpoint_types"]) == 3
    assert journal == 1000
    warm = [rss for t, rss in samples if t >= elapsed * 0.2]
    baseline = warm[0]
    growth = max(warm) - baseline
    figures = {"requests": total, "seconds": round(elapsed, 1), "rate": round(total / elapsed),
               "rss_start_kib": samples[0][1], "rss_after_warmup_kib": baseline, "rss_max_kib": max(warm),
               "rss_end_kib": samples[-1][1], "growth_after_warmup_kib": growth}
    print("soak:", figures)
    assert growth < max_growth_kib, figures
    return figures


def http_get(url: str, path: str) -> bytes:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.request("GET", path)
        return connection.getresponse().read()
    finally:
        connection.close()


@pytest.mark.slow
def test_memory_stays_flat_over_20k_requests():
    _soak(total=20_000, time_limit=300, max_growth_kib=30 * 1024)
