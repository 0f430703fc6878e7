"""`emma-mock capture`: a stand-in API (another emma-mock with data of its own) read into a fixture
that the mock then serves with the same GET answers; personal data, keys, rate limits and errors.
The real Emma API is never contacted: every URL here is on 127.0.0.1.
"""
from __future__ import annotations

import json
import os
import pty
import re
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from standins import (
    ACCOUNT,
    BIN,
    EMAILS,
    KEYS,
    Proxy,
    assert_no_secret,
    base,
    emma_mock,
    standin_fixture,
    started_standin,
)

from mockserver.testing import MockServer

GETS = ["/touchpoints", "/touchpoints?count=true", "/touchpoints/71", "/touchpoints/72", "/members",
        "/members?count=true", "/members/9001", "/members?start=1&end=3", "/touchpoints/members/9001",
        "/touchpoints/members/9002?count=true", "/touchpoints/members/9003", "/touchpoints/members/touchpoints/501",
        "/touchpoints/999", "/members/999"]


@pytest.fixture
def standin(tmp_path: Path) -> Iterator[MockServer]:
    with started_standin(tmp_path) as server:
        yield server


def printed_keys(stdout: str) -> tuple[str, str]:
    match = re.search(r"public ([0-9a-f]{20}) private ([0-9a-f]{20})", stdout)
    assert match, stdout
    return match.group(1), match.group(2)


def answers(url: str, keys: tuple[str, str]) -> dict[str, tuple[int, Any]]:
    out = {}
    for path in GETS:
        response = requests.get(url + path, auth=keys, timeout=10)
        out[path] = (response.status_code, response.json())
    return out


def without_personal_data(value: Any) -> Any:
    """A stand-in answer as a capture keeps it by default: emails replaced, fields dropped."""
    if isinstance(value, list):
        return [without_personal_data(item) for item in value]
    if isinstance(value, dict) and "email" in value:
        return {**value, "email": f"member-{value['member_id']}@example.invalid", "fields": {}}
    return value


def test_capture_reproduces_the_gets_without_personal_data_or_keys(standin: MockServer, tmp_path: Path):
    out = tmp_path / "captured.json"
    result = emma_mock("capture", base(standin), "-o", str(out))
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    assert_no_secret(result.stdout, result.stderr, text)
    for email in EMAILS:
        assert email.lower() not in (result.stdout + result.stderr + text).lower()
    assert "Oslo" not in text and "Name0" not in text
    assert "2 touchpoint types, 5 members of 5, 8 touchpoints" in result.stdout
    assert f"serve it with: emma-mock --fixtures {out}" in result.stdout
    assert "personal data left out" in result.stdout
    assert {entry["method"] for entry in standin.requests()} == {"GET"}  # capture only reads
    keys = printed_keys(result.stdout)
    assert set(keys).isdisjoint(KEYS)
    real = answers(base(standin), KEYS)
    with MockServer(fixtures=out) as served:
        assert served.auth == keys
        mine = answers(base(served), keys)
    assert mine == {path: (status, without_personal_data(body)) for path, (status, body) in real.items()}


def test_the_cli_serves_the_capture(standin: MockServer, tmp_path: Path):
    out = tmp_path / "captured.json"
    assert emma_mock("capture", base(standin), "-o", str(out)).returncode == 0
    process = subprocess.Popen([str(BIN / "emma-mock"), "--fixtures", str(out), "--port", "0", "--quiet"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        url = first.split(" serving on ")[1].strip()
        assert f"fixtures: {out}" in process.stdout.readline() + process.stdout.readline() + process.stdout.readline()
        account = json.loads(out.read_text())["accounts"][0]
        response = requests.get(f"{url}/{ACCOUNT}/touchpoints", auth=(account["public_key"], account["private_key"]),
                                timeout=10)
        assert response.status_code == 200
        assert [t["type_name"] for t in response.json()] == ["downloaded_app", "renewed"]
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_keep_personal_data_keeps_emails_and_fields_in_a_private_file(standin: MockServer, tmp_path: Path):
    out = tmp_path / "captured.json"
    result = emma_mock("capture", base(standin), "-o", str(out), "--keep-personal-data")
    assert result.returncode == 0, result.stderr
    assert os.stat(out).st_mode & 0o777 == 0o600
    assert_no_secret(result.stdout, result.stderr, out.read_text())
    real = answers(base(standin), KEYS)
    with MockServer(fixtures=out) as served:
        assert answers(base(served), served.auth) == real


def add_fields(method: str, path: str, query: dict[str, list[str]], status: int, body: Any) -> tuple[int, Any]:
    """A real API's members carry fields the mock does not model."""
    def more(record: Any) -> Any:
        return {**record, "member_status_id": "a", "last_modified_at": None} if isinstance(record, dict) \
            and "member_since" in record else record
    return status, [more(r) for r in body] if isinstance(body, list) else more(body)


def test_fields_the_mock_does_not_model_are_listed_and_left_out(standin: MockServer, tmp_path: Path):
    proxy = Proxy(standin.url, add_fields)
    out = tmp_path / "captured.json"
    try:
        result = emma_mock("capture", base(proxy), "-o", str(out))
    finally:
        proxy.close()
    assert result.returncode == 0, result.stderr
    assert "not modelled by the mock, left out: members: last_modified_at, member_status_id" in result.stdout
    assert "member_status_id" not in out.read_text()
    with MockServer(fixtures=out):
        pass  # it loads


def test_members_limit_and_small_pages(standin: MockServer, tmp_path: Path):
    out = tmp_path / "three.json"
    assert emma_mock("capture", base(standin), "-o", str(out), "--members", "3").returncode == 0
    assert [m["member_id"] for m in json.loads(out.read_text())["members"]] == [9001, 9002, 9003]

    def two_per_page(method: str, path: str, query: dict[str, list[str]], status: int, body: Any) -> tuple[int, Any]:
        return status, body[:2] if isinstance(body, list) else body
    proxy = Proxy(standin.url, two_per_page)
    try:
        result = emma_mock("capture", base(proxy), "-o", str(out))
    finally:
        proxy.close()
    assert result.returncode == 0, result.stderr
    assert len(json.loads(out.read_text())["members"]) == 5  # pages of 2 followed, as count=true said 5


def test_the_rate_limit_is_waited_out(standin: MockServer, tmp_path: Path):
    # The stand-in's clock stands still, so the limit is reached whatever the machine's speed; the first
    # refusal moves it on by the second that Retry-After asks capture to wait, as real time would.
    standin.freeze_clock("2026-01-01T00:00:00Z")
    standin.set_rate_limit(requests=6, per_seconds=1)

    def time_passes_on_refusal(method: str, path: str, query: dict[str, list[str]], status: int,
                               body: Any) -> tuple[int, Any]:
        if status == 403:
            standin.advance_clock(1)
        return status, body
    proxy = Proxy(standin.url, time_passes_on_refusal)
    out = tmp_path / "limited.json"
    try:
        result = emma_mock("capture", base(proxy), "-o", str(out), "--members", "3")
    finally:
        proxy.close()
    assert result.returncode == 0, result.stderr
    assert "rate limited: waiting 1 s as the API asks (Retry-After)" in result.stderr
    assert len(json.loads(out.read_text())["members"]) == 3
    assert any(entry["status"] == 403 for entry in standin.requests())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(("case", "status", "says"), [
    ("wrong keys", 2, "GET http://127.0.0.1:{port}/2001/touchpoints?count=true: the credentials were refused (401)"),
    ("other account's keys", 2, "the credentials were refused (403)"),
    ("no account there", 2, "answered 404: no account at this URL; check the account id at its end"),
    ("nothing at the URL", 2, "nothing answers at http://127.0.0.1:{port}/2001 (ConnectionError)"),
    ("not an account URL", 2, "is not an account's API base URL"),
    ("keys in the URL", 2, "the URL holds credentials"),
    ("no keys", 2, "no API keys: set EMMA_PUBLIC_KEY and EMMA_PRIVATE_KEY"),
    ("a 5xx", 1, "GET http://127.0.0.1:{port}/2001/members?count=true: the API answered 503 (a server error)"),
    ("folder missing", 2, "cannot be written"),
])
def test_errors_are_one_line_naming_the_request(standin: MockServer, tmp_path: Path, case: str, status: int,
                                                says: str):
    port = int(standin.url.rsplit(":", 1)[1])
    url, out, env, keys = base(standin), str(tmp_path / "c.json"), {}, True
    if case == "wrong keys":
        env = {"EMMA_PRIVATE_KEY": "not-the-key"}
    elif case == "other account's keys":
        env = {"EMMA_PUBLIC_KEY": "another-public", "EMMA_PRIVATE_KEY": "another-private"}
    elif case == "nothing at the URL":
        port = free_port()
        url = f"http://127.0.0.1:{port}/{ACCOUNT}"
    elif case == "not an account URL":
        url = f"{standin.url}/touchpoints"
    elif case == "keys in the URL":
        url = f"http://{KEYS[0]}:{KEYS[1]}@127.0.0.1:{port}/{ACCOUNT}"
    elif case == "no keys":
        keys = False
    elif case == "a 5xx":
        standin.add_fault(path=f"/{ACCOUNT}/members", method="GET", status=503)
    elif case == "folder missing":
        out = str(tmp_path / "nowhere" / "c.json")
    if case == "no account there":  # an account id nobody has: with auth on, 401 first; so on a mock without auth
        fixture = tmp_path / "s.json"
        fixture.write_text(json.dumps(standin_fixture()))
        with MockServer(fixtures=fixture, auth=False) as open_mock:
            port = int(open_mock.url.rsplit(":", 1)[1])
            result = emma_mock("capture", f"{open_mock.url}/2003", "-o", out)
    else:
        result = emma_mock("capture", url, "-o", out, env=env, keys=keys)
    assert result.returncode == status, result.stdout + result.stderr
    lines = result.stderr.strip().split("\n")
    assert says.format(port=port) in lines[-1], result.stderr
    assert lines[-1].startswith("emma-mock capture: ")
    assert "Traceback" not in result.stderr
    assert_no_secret(result.stdout, result.stderr)
    assert not Path(out).exists()


def test_progress_is_a_bar_on_a_terminal(standin: MockServer, tmp_path: Path):
    main, secondary = pty.openpty()
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("EMMA_", "MOCKSERVER_"))}
    environment.update(EMMA_PUBLIC_KEY=KEYS[0], EMMA_PRIVATE_KEY=KEYS[1])
    process = subprocess.run([str(BIN / "emma-mock"), "capture", base(standin), "-o", str(tmp_path / "c.json")],
                             stdout=subprocess.PIPE, stderr=secondary, env=environment, timeout=60)
    os.close(secondary)
    shown = b""
    try:
        while chunk := os.read(main, 65536):
            shown += chunk
    except OSError:
        pass  # the terminal is closed once everything is read
    os.close(main)
    assert process.returncode == 0
    assert b"\rcapture: [" in shown and b"] 5/5 members' touchpoints" in shown, shown


def test_help_explains_each_command_in_a_screen(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    from mockserver.__main__ import main

    result = subprocess.run([str(BIN / "emma-mock"), "--help"], capture_output=True, text=True,
                            timeout=30, env={**os.environ, "COLUMNS": "100"})
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.split("\n")) <= 50, result.stdout
    main_help = result.stdout
    monkeypatch.setenv("COLUMNS", "100")
    for command in (["capture"], ["verify"], ["serve"]):  # the same entry point, in this process: no start to pay
        with pytest.raises(SystemExit) as exited:
            main([*command, "--help"])
        assert exited.value.code == 0
        out = capsys.readouterr().out
        assert out.startswith("usage: emma-mock") and len(out.split("\n")) <= 50, out
    assert "emma-mock {capture,verify} URL" in main_help and "`verify URL` compares" in " ".join(main_help.split())
