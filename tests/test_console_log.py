"""The console log: one line per API request on the CLI's standard output, `--quiet` to silence it."""
import io
import os
import threading
import time
from pathlib import Path

import pytest
import requests

from mockserver.serving.console import MAX_TARGET, SHOWN, ConsoleLog, request_line

from helpers import DEMO_AUTH, CLIServer, basic, wait_until

LINE = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ  "


def test_the_cli_prints_one_line_per_api_request_and_never_credentials():
    server = CLIServer()
    try:
        requests.get(f"{server.url}/100/touchpoints?count=true", auth=DEMO_AUTH, timeout=10)
        requests.post(f"{server.url}/100/touchpoints", json={"type_name": "a", "display_name": "A"},
                      auth=DEMO_AUTH, timeout=10)
        requests.get(f"{server.url}/100/touchpoints/999", auth=DEMO_AUTH, timeout=10)
        requests.get(f"{server.url}/__admin/health", timeout=10)  # the control API is not logged
        requests.get(f"{server.url}/100/touchpoints", timeout=10)  # logged before its answer; the stop flushes it
    finally:
        out, _ = server.stop()
    lines = [line for line in out.splitlines() if line[:2] == "20"]
    assert [line.split("  ")[1:3] for line in lines] == [
        ["GET /100/touchpoints?count=true", "200"], ["POST /100/touchpoints", "200"],
        ["GET /100/touchpoints/999", "404"], ["GET /100/touchpoints", "401"]]
    assert all(line.endswith(" ms") for line in lines)
    assert "demo-private-key" not in "\n".join(lines) and "Basic " not in out


@pytest.mark.parametrize("how", [("--quiet",), ()])
def test_quiet_by_option_or_variable_prints_no_request_lines(how):
    server = CLIServer(*how, env={} if how else {"MOCKSERVER_QUIET": "1"})
    try:
        requests.get(f"{server.url}/100/touchpoints", auth=DEMO_AUTH, timeout=10)  # a line would be out at the stop
    finally:
        out, _ = server.stop()
    assert "GET /100/touchpoints" not in out and "serving on" in out


def line_of(entry: dict, moment: str = "2026-01-02T03:04:05Z") -> str:
    return request_line(moment, *map(entry.get, SHOWN))


def test_a_path_cannot_forge_console_lines():
    entry = {"method": "GET", "path": "/100/x\n2026-01-01T00:00:00Z  GET /fake  200  1.0 ms\x1b[2J",
             "query": "", "status": 404, "duration_ms": 1.0}
    line = line_of(entry)
    assert "\n" not in line and "\x1b" not in line and "\\n" in line
    # spaces are shown as sent (%20): a path cannot pad itself into a line of its own on the terminal
    padded = line_of({**entry, "path": "/x" + " " * 60 + "2026-01-01T00:00:00Z  DELETE /100/x  200  0.1 ms"})
    assert "  " not in padded.split("  ", 1)[1].split("  404")[0] and "%20" * 60 in padded
    # a backslash sent as such is doubled, so a line's escapes are only ever the console's own
    assert line_of({**entry, "path": "/100/x\\n"}) == "2026-01-02T03:04:05Z  GET /100/x\\\\n  404  1.0 ms"


def test_long_targets_are_cut_and_fault_and_drop_are_marked():
    long = {"method": "GET", "path": "/100/" + "a" * 5000, "query": "", "status": 404, "duration_ms": 2.0}
    assert len(line_of(long)) < MAX_TARGET + 80
    fault = {"method": "GET", "path": "/100/touchpoints", "query": "", "status": 503, "duration_ms": 0.5, "fault": 3}
    assert line_of(fault) == "2026-01-02T03:04:05Z  GET /100/touchpoints  503  0.5 ms  fault 3"
    drop = {**fault, "status": None}
    assert line_of(drop).endswith("---  0.5 ms  drop (fault 3)")


def test_a_console_nobody_reads_never_holds_up_a_request():
    read_end, write_end = os.pipe()  # a pipe whose reader never reads: writes block once it is full
    stream = io.TextIOWrapper(os.fdopen(write_end, "wb", buffering=0), write_through=True)
    console = ConsoleLog(stream)
    entry = {"method": "GET", "path": "/100/" + "x" * 200, "query": "", "status": 200, "duration_ms": 1.0}
    done = threading.Event()

    def flood():
        for _ in range(30_000):  # far more than the pipe holds, and more than the queue
            console.log(entry)
        done.set()

    threading.Thread(target=flood, daemon=True).start()
    assert done.wait(10), "log() blocked on a full console"
    os.close(read_end)


def test_closing_the_console_writes_what_is_queued_and_ends_its_thread():
    stream = io.StringIO()
    console = ConsoleLog(stream)
    console.log({"method": "GET", "path": "/100/touchpoints", "query": "", "status": 200, "duration_ms": 1.0})
    console.close()
    assert "GET /100/touchpoints  200" in stream.getvalue()
    assert not console._thread.is_alive()


@pytest.mark.parametrize("signal_name", ["SIGTERM", "SIGINT"])
def test_the_cli_stops_promptly_with_a_console_nobody_reads(signal_name):
    """Stdout a full pipe nobody reads: the console's blocked write must not hold up the stop (nor the
    last line the CLI prints on the way out)."""
    import fcntl
    import glob
    import http.client
    import signal

    def blocked_writing() -> bool:  # a thread of the server waits in the kernel for room in a pipe
        return any(Path(wchan).read_text().endswith("pipe_write")
                   for wchan in glob.glob(f"/proc/{server.pid}/task/*/wchan"))

    with CLIServer() as server:
        # The smallest pipe Linux allows (a page, against 64 KiB by default) fills after a dozen lines.
        fcntl.fcntl(server.process.stdout.fileno(), fcntl.F_SETPIPE_SZ, 4096)
        host, port = server.url.removeprefix("http://").rsplit(":", 1)
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        target = "/100/touchpoints/300?x=" + "a" * 250  # long lines fill the pipe fast
        for sent in range(3000):
            conn.request("GET", target, headers=basic(*DEMO_AUTH))
            conn.getresponse().read()
            if sent % 10 == 9 and wait_until(blocked_writing, timeout=0.15):  # the console writes every 0.05 s
                break
        assert wait_until(blocked_writing), "the console's thread never blocked on the full pipe"
        started = time.monotonic()
        server.process.send_signal(getattr(signal, signal_name))
        code = server.process.wait(timeout=20)
        assert time.monotonic() - started < 10
        assert code in (0, -signal.SIGINT, 130) if signal_name == "SIGINT" else code == 0
