"""`emma-mock verify`: against a faithful stand-in (another emma-mock with data of its own) nothing
differs and `--writes` leaves it exactly as found; behind a drifting proxy, each class of drift a real
API can show is found and named. The real Emma API is never contacted: every URL is on 127.0.0.1.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from standins import (
    ACCOUNT,
    BIN,
    EMAILS,
    KEYS,
    Proxy,
    assert_no_secret,
    base,
    emma_mock,
    started_standin,
)

from mockserver.testing import MockServer


@pytest.fixture
def standin(tmp_path: Path) -> Iterator[MockServer]:
    with started_standin(tmp_path) as server:
        yield server


def records(server: MockServer) -> dict[str, Any]:
    return server.state()


def test_a_faithful_standin_verifies_with_exit_0(standin: MockServer):
    result = emma_mock("verify", base(standin))
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.strip().split("\n")
    assert all(line.startswith("same ") for line in lines[:-1]), result.stdout
    assert len(lines) > 15
    assert lines[-1].startswith(f"verify: {len(lines) - 1} checks against {base(standin)}: {len(lines) - 1} same")
    for line in ("same     GET /touchpoints/members/9001?count=true", "same     GET /members?start=1&end=3",
                 "same     GET /touchpoints with wrong keys", "same     GET /members/email/<email of member 9001>"):
        assert line in lines
    assert {entry["method"] for entry in standin.requests()} == {"GET"}  # reads only by default
    assert_no_secret(result.stdout, result.stderr)
    assert not any(email.lower() in (result.stdout + result.stderr).lower() for email in EMAILS)


def test_writes_round_trip_leaves_the_standin_exactly_as_found(standin: MockServer):
    before = records(standin)
    result = emma_mock("verify", base(standin), "--writes", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["exit_status"] == 0 and report["writes"] is True
    assert report["records"].startswith("emma_mock_verify_")
    assert {c["outcome"] for c in report["checks"]} == {"same"}
    assert [c["check"] for c in report["checks"] if c["check"].startswith(("POST", "DELETE"))] == [
        "POST /touchpoints", "POST /touchpoints/members", "DELETE /touchpoints/members/touchpoints/{touchpoint_id}",
        "DELETE /touchpoints/{type_id}"]
    assert records(standin) == before
    posted = standin.requests(method="POST", path=f"/{ACCOUNT}/touchpoints")
    assert posted[0]["body"]["type_name"] == report["records"]
    assert_no_secret(result.stdout, result.stderr)


Drift = Callable[[str, str, dict[str, list[str]], int, Any], tuple[int, Any]]


def each_record(change: Callable[[dict[str, Any]], dict[str, Any]]) -> Drift:
    """A drift applied to every object of every successful answer."""
    def drift(method: str, path: str, query: dict[str, list[str]], status: int, body: Any) -> tuple[int, Any]:
        if status != 200:
            return status, body
        if isinstance(body, list):
            return status, [change(item) if isinstance(item, dict) else item for item in body]
        return status, change(body) if isinstance(body, dict) else body
    return drift


def renamed(record: dict[str, Any]) -> dict[str, Any]:
    if "type_name" in record and "touchpoint_id" not in record:
        record = dict(record)
        record["name"] = record.pop("type_name")
    return record


def errors(change: Callable[[int, Any], tuple[int, Any]]) -> Drift:
    def drift(method: str, path: str, query: dict[str, list[str]], status: int, body: Any) -> tuple[int, Any]:
        return change(status, body) if status >= 400 and status != 401 else (status, body)
    return drift


def small_pages(method: str, path: str, query: dict[str, list[str]], status: int, body: Any) -> tuple[int, Any]:
    return status, body[:2] if isinstance(body, list) else body


DRIFTS: dict[str, tuple[Drift, str]] = {
    "a renamed field": (each_record(renamed),
                        "type_name: missing in the real answer (it has 'name' instead: renamed?)"),
    "a field of another type": (each_record(lambda r: {**r, "touchpoint_type_id": str(r["touchpoint_type_id"])}
                                            if "touchpoint_type_id" in r else r),
                                'touchpoint_type_id: kind differs: real string "71", mock number 71'),
    "another date form": (each_record(lambda r: {**r, "created_at": r["created_at"][3:] + "Z"}
                                      if "created_at" in r else r),
                          'created_at: date form differs: real date in another form "2024-03-01T08:00:00Z", '
                          'mock @D: date "@D:2024-03-01T08:00:00"'),
    "another error shape": (errors(lambda status, body: (status, {"message": body["error"], "code": status})),
                            "error: missing in the real answer (it has 'code', 'message' instead: renamed?)"),
    "another status code": (errors(lambda status, body: (400 if status == 404 else status, body)),
                            "GET /touchpoints/987654321987654321: status: status differs: real 400, mock 404"),
    "different paging limits": (small_pages,
                                "GET /members?start=0&end=5: body: number of items differs: real 2, mock 5"),
    "a server error": (lambda m, p, q, status, body: (503, {"error": "down"}) if p == f"/{ACCOUNT}/members/9001"
                       else (status, body), "GET /members/9001: status: status differs: real 503, mock 200"),
}


# The normal run sends drifts that touch different parts of an answer together, one verify run per group;
# `-m slow` sends each alone as well.
DRIFT_GROUPS = [("a renamed field", "a server error", "different paging limits"),
                ("a field of another type", "another status code"),
                ("another date form", "another error shape")]


def together(drifts: list[Drift]) -> Drift:
    def drift(method: str, path: str, query: dict[str, list[str]], status: int, body: Any) -> tuple[int, Any]:
        for change in drifts:
            status, body = change(method, path, query, status, body)
        return status, body
    return drift


def test_every_class_of_drift_is_in_a_group():
    assert sorted(name for group in DRIFT_GROUPS for name in group) == sorted(DRIFTS)


@pytest.mark.parametrize("drifts", [pytest.param(group, id=" + ".join(group)) for group in DRIFT_GROUPS]
                         + [pytest.param((name,), id=name, marks=pytest.mark.slow) for name in DRIFTS])
def test_each_class_of_drift_is_found_and_named(standin: MockServer, drifts: tuple[str, ...]):
    proxy = Proxy(standin.url, together([DRIFTS[name][0] for name in drifts]))
    try:
        result = emma_mock("verify", base(proxy))
    finally:
        proxy.close()
    assert result.returncode == 1, result.stdout + result.stderr
    for name in drifts:
        named = DRIFTS[name][1]
        assert named in result.stdout, (name, result.stdout)
        assert any(line.startswith("differs ") and named in line for line in result.stdout.split("\n")), name
    assert "differ," in result.stdout.strip().split("\n")[-1]
    assert_no_secret(result.stdout, result.stderr)


def test_a_field_the_mock_lacks_is_listed_and_fails_only_with_strict(standin: MockServer):
    def lacks(record: dict[str, Any]) -> dict[str, Any]:
        return {**record, "member_status_id": "a"} if "member_since" in record else record
    proxy = Proxy(standin.url, each_record(lacks))
    try:
        lenient = emma_mock("verify", base(proxy))
        strict = emma_mock("verify", base(proxy), "--strict", "--json")
    finally:
        proxy.close()
    assert lenient.returncode == 0, lenient.stdout
    assert "same     GET /members/9001 (not modelled: member_status_id)" in lenient.stdout
    assert "same     GET /members?start=0&end=5 (not modelled: [].member_status_id)" in lenient.stdout
    assert strict.returncode == 1
    report = json.loads(strict.stdout)
    assert report["exit_status"] == 1
    assert {"check": "GET /members/9001", "outcome": "same", "reason": None, "differences": [],
            "not_modelled": ["member_status_id"]} in report["checks"]


def test_cannot_run_is_exit_2_with_one_line(standin: MockServer):
    refused = emma_mock("verify", base(standin), env={"EMMA_PRIVATE_KEY": "wrong"})
    assert refused.returncode == 2
    assert refused.stderr.strip().split("\n")[-1].startswith(
        f"emma-mock verify: GET {base(standin)}/touchpoints?count=true: the credentials were refused (401)")
    usage = emma_mock("verify", base(standin), "--members", "x")
    assert usage.returncode == 2 and "--members" in usage.stderr
    assert_no_secret(refused.stdout, refused.stderr, usage.stderr)


class Held:
    """A stand-in proxy that holds the read after the touchpoints' create until released."""

    def __init__(self, target: str):
        self.posted = threading.Event()
        self.release = threading.Event()
        self.held = False
        self.proxy = Proxy(target, before=self.before)

    def before(self, method: str, path: str) -> None:
        if method == "POST" and path.endswith("/touchpoints/members"):
            self.posted.set()
        elif self.posted.is_set() and method == "GET" and "/touchpoints/members/touchpoints/" in path \
                and not self.held:
            self.held = True
            self.release.wait(30)


def test_ctrl_c_after_the_create_removes_what_was_created(standin: MockServer):
    before = records(standin)
    held = Held(standin.url)
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("EMMA_", "MOCKSERVER_"))}
    environment.update(EMMA_PUBLIC_KEY=KEYS[0], EMMA_PRIVATE_KEY=KEYS[1])
    process = subprocess.Popen([str(BIN / "emma-mock"), "verify", base(held.proxy), "--writes"], env=environment,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert held.posted.wait(60), "verify never posted its touchpoint"
        created = [t for t in standin.state()["touchpoint_types"] if t["type_name"].startswith("emma_mock_verify_")]
        assert len(created) == 1  # the type exists on the stand-in now
        while not held.held:
            threading.Event().wait(0.02)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        held.release.set()
        held.proxy.close()
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, stdout + stderr
    assert f"same     clean-up of {created[0]['type_name']}" in stdout
    assert "Traceback" not in stderr
    assert records(standin) == before


def test_a_failure_half_way_leaves_no_record(standin: MockServer):
    """The stand-in stores the touchpoint but the answer is lost (502): the clean-up still removes it all."""
    before = records(standin)

    def lost(method: str, path: str, query: dict[str, list[str]], status: int, body: Any) -> tuple[int, Any]:
        return (502, {"error": "bad gateway"}) if method == "POST" and path.endswith("/members") else (status, body)
    proxy = Proxy(standin.url, lost)
    try:
        result = emma_mock("verify", base(proxy), "--writes")
    finally:
        proxy.close()
    assert result.returncode == 1, result.stdout + result.stderr
    assert "differs  POST /touchpoints/members: status: status differs: real 502, mock 200" in result.stdout
    assert "not run: an earlier step made nothing on the real API" in result.stdout
    assert records(standin) == before


def test_the_ci_recipe_runs_verify_with_the_keys_from_secrets():
    import yaml
    from readme_blocks import blocks

    (recipe,) = [b for b in blocks(Path(__file__).resolve().parent.parent / "docs" / "contract.md") if b.lang == "yaml"]
    workflow = yaml.safe_load(recipe.text)
    assert workflow[True]["schedule"][0]["cron"]  # YAML reads the key `on` as True
    (step,) = [s for s in workflow["jobs"]["verify"]["steps"] if "emma-mock verify" in s.get("run", "")]
    assert step["env"] == {"EMMA_PUBLIC_KEY": "${{ secrets.EMMA_PUBLIC_KEY }}",
                           "EMMA_PRIVATE_KEY": "${{ secrets.EMMA_PRIVATE_KEY }}"}


def test_what_the_api_answers_reaches_the_terminal_escaped(standin: MockServer):
    """A hostile or broken API answering escape sequences cannot clear the screen or forge report lines."""
    forged = "\x1b[2J\x1b[H\rsame     everything\u202e"
    proxy = Proxy(standin.url, each_record(lambda record: {**record, "type_name": forged}
                                           if "type_name" in record else record))
    try:
        verified = emma_mock("verify", base(proxy))
        captured = emma_mock("capture", base(proxy), "-o", os.devnull + "-not-a-file" if False else
                             str(Path(standin.config.fixtures).with_name("captured.json")))
    finally:
        proxy.close()
    assert verified.returncode == 1, verified.stdout + verified.stderr
    for output in (verified.stdout, verified.stderr, captured.stdout, captured.stderr):
        assert "\x1b" not in output and "\r" not in output and "\u202e" not in output, repr(output[:500])
    assert "\\x1b[2J" in verified.stdout  # shown, escaped
