"""The real command: start on port 0, call it, stop it; bad options and fixtures exit 2."""
import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest
import requests

from helpers import DEMO_AUTH, MOCKSERVER, cli_env


def spawn(*args, env=None):
    environment = {**cli_env(), **(env or {})}
    return subprocess.Popen([*MOCKSERVER, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=environment)


def wait_for_url(process, timeout=15.0, banner=None):
    """The URL from the first line of the banner; the whole banner is appended to `banner`."""
    deadline = time.monotonic() + timeout
    line = process.stdout.readline()
    match = re.search(r"serving on (http://\S+)", line)
    assert match, f"unexpected first line {line!r}; stderr: {process.stderr.read() if process.poll() is not None else ''}"
    url = match.group(1)
    lines = [line]
    while "control:" not in line and line:
        line = process.stdout.readline()
        lines.append(line)
    if banner is not None:
        banner.extend(lines)
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/__admin/health", timeout=1).status_code == 200:
                return url
        except requests.ConnectionError:
            time.sleep(0.05)
    raise AssertionError("server did not become healthy")


@pytest.fixture
def server():
    process = spawn("--port", "0")
    process.banner = []
    try:
        yield process, wait_for_url(process, banner=process.banner)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        process.stdout.close()
        process.stderr.close()


def test_serves_the_default_fixture_and_prints_url_and_credentials(server):
    process, url = server
    assert url.startswith("http://127.0.0.1:")
    assert requests.get(f"{url}/100/touchpoints", auth=DEMO_AUTH, timeout=5).json()[0]["touchpoint_type_id"] == 300
    assert requests.get(f"{url}/100/touchpoints", timeout=5).status_code == 401
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=10)
    assert process.returncode == 0
    out = "".join(process.banner) + out
    assert "emma-mock: stopped" in out
    assert "demo-public-key" in out and "demo-private-key" in out
    assert "curl -u demo-public-key:demo-private-key" in out
    assert "Traceback" not in err


def test_sigterm_stops_it_cleanly_and_quickly(server):
    process, _url = server
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=10)
    assert process.returncode == 0
    assert time.monotonic() - started < 3
    assert "Traceback" not in process.stderr.read()


def test_environment_variables_configure_it(tmp_path):
    db = tmp_path / "state.json"
    process = spawn(env={"MOCKSERVER_PORT": "0", "MOCKSERVER_AUTH": "off", "MOCKSERVER_DB": str(db)})
    try:
        url = wait_for_url(process)
        assert requests.get(f"{url}/100/touchpoints", timeout=5).status_code == 200  # auth off
        assert requests.post(f"{url}/100/touchpoints", data=json.dumps({"type_name": "env", "display_name": "E"}),
                             timeout=5).status_code == 200
        assert "env" in db.read_text()
    finally:
        process.terminate()
        process.communicate(timeout=10)


BAD_OPTIONS = [
    (["--port", "http"], "port"),
    (["--port", "70000"], "port"),
    (["--auth", "maybe"], "on or off"),
    (["--fixtures", "/no/such/file.json"], "no such fixture"),
    (["--bogus"], "unrecognized"),
]


@pytest.mark.parametrize("args,words", BAD_OPTIONS)
def test_bad_options_print_one_clear_line_and_exit_2(args, words, capsys, monkeypatch):
    """The command's own entry point, in this process (a Python start per case saved); the next test runs it."""
    from mockserver.__main__ import main

    for name in [name for name in os.environ if name.startswith("MOCKSERVER_")]:
        monkeypatch.delenv(name)
    try:
        code = main(args)
    except SystemExit as exited:
        code = exited.code
    stderr = capsys.readouterr().err
    assert code == 2
    assert words in stderr
    assert "Traceback" not in stderr and len(stderr.strip().splitlines()) <= 2, stderr


@pytest.mark.parametrize("args,words", [pytest.param(*case, marks=() if n == 0 else pytest.mark.slow)
                                        for n, case in enumerate(BAD_OPTIONS)])
def test_bad_options_exit_2_from_the_command(args, words):
    result = subprocess.run([*MOCKSERVER, *args], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert words in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_fixture_refuses_to_start(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"accounts": [{"account_id": 1, "public_key": "p", "private_key": "s"}],
                               "members": [{"account_id": 9, "member_id": 1, "email": "a@example.com"}]}))
    result = subprocess.run([*MOCKSERVER, "--fixtures", str(bad), "--port", "0"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert f"{bad}: members[0]: account_id 9" in result.stderr
    assert result.stdout == "" and "Traceback" not in result.stderr


def test_a_damaged_db_refuses_to_start_and_is_left_alone(tmp_path):
    db = tmp_path / "state.json"
    db.write_text('{"touchpoints": {"1": {"acc')
    result = subprocess.run([*MOCKSERVER, "--db", str(db), "--port", "0"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert str(db) in result.stderr and "Traceback" not in result.stderr
    assert db.read_text() == '{"touchpoints": {"1": {"acc'


def test_a_busy_port_is_one_clear_line():
    from mockserver.testing import MockServer

    with MockServer(port=0) as running:  # the port held by another emma-mock (in this process: no start to pay)
        port = running.url.rsplit(":", 1)[1]
        result = subprocess.run([*MOCKSERVER, "--port", port], capture_output=True,
                                text=True, timeout=30, env=cli_env())
    assert result.returncode == 2
    assert "cannot listen" in result.stderr and "Traceback" not in result.stderr


def test_the_console_script_is_installed():
    script = os.path.join(os.path.dirname(sys.executable), "emma-mock")
    result = subprocess.run([script, "--version"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0 and "emma-mock" in result.stdout


def test_a_restart_on_the_same_db_keeps_the_state_and_the_banner_says_where_it_came_from(tmp_path):
    db = tmp_path / "state.json"
    for round_, expected in enumerate(("new file, seeded from the fixtures", "state loaded from this file")):
        process = spawn("--port", "0", "--db", str(db), "--admin-token", "t0k", "--quiet")
        banner = []
        try:
            url = wait_for_url(process, banner=banner)
            names = [t["type_name"] for t in requests.get(f"{url}/100/touchpoints", auth=DEMO_AUTH, timeout=5).json()]
            if round_ == 0:
                assert "survivor" not in names
                requests.post(f"{url}/100/touchpoints", json={"type_name": "survivor", "display_name": "S"},
                              auth=DEMO_AUTH, timeout=5)
            else:
                assert "survivor" in names
        finally:
            process.terminate()
            process.communicate(timeout=10)
        text = "".join(banner)
        assert f"storage:  {db} ({expected})" in text
        assert "/__admin (reset, state, requests, faults, clock, rate-limit; send the admin token" in text
        assert "t0k" not in text


@pytest.mark.parametrize("args,env,words", [
    (["--host", "999.1.1.1"], {}, "cannot listen on 999.1.1.1"),
    ([], {"MOCKSERVER_PORT": "abc"}, "(from MOCKSERVER_PORT)"),
])
def test_a_bad_address_or_variable_is_one_line_and_exit_2(args, env, words):
    result = subprocess.run([*MOCKSERVER, "--port", "0", *args] if not env else
                            [*MOCKSERVER], capture_output=True, text=True, timeout=30,
                            env={**os.environ, **env})
    assert result.returncode == 2 and words in result.stderr and "Traceback" not in result.stderr


def test_a_bad_flag_variable_is_one_line_and_exit_2():
    result = subprocess.run([*MOCKSERVER, "--port", "0"], capture_output=True, text=True,
                            timeout=30, env={**os.environ, "MOCKSERVER_QUIET": "maybe"})
    assert result.returncode == 2 and "MOCKSERVER_QUIET" in result.stderr and "Traceback" not in result.stderr
