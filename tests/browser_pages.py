"""What the dashboard's browser tests share: the module's server, a watched tab on Playwright's clock,
a freshly loaded page, and a stub `curl` that records how a copied line calls it.

A test module takes the fixtures by assigning them (`server, tab, page = browser_pages.server, ...`): each
module gets its own server and tab (module scope), and all share the worker's one Chromium (`browser`,
conftest.py). See test_dashboard_browser.py for how the page's timers and polls are driven.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from mockserver.testing import MockServer

from helpers import wait_until

LIVE = 3000  # ms: "within about a second", with room for a loaded machine
POLL_MS = 600  # as in mockserver/control/dashboard/dashboard.js


@pytest.fixture(scope="module")
def server():
    with MockServer() as server:
        yield server


class Watched:
    """A page and what it did that it should not: console errors, page errors, requests elsewhere."""

    def __init__(self, context, origin: str, allowed_errors: tuple[str, ...] = ()):
        self.context = context
        self.page = context.new_page()
        self.allowed_errors = allowed_errors
        self.problems: list[str] = []
        self.elsewhere: list[str] = []
        self.page.on("console", lambda m: self._console(m, self.allowed_errors))
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        self.page.on("request", lambda r: None if r.url.startswith((origin + "/", "blob:", "data:"))
                     else self.elsewhere.append(r.url))

    def _console(self, message, allowed: tuple[str, ...]) -> None:
        if message.type == "error" and not any(text in message.text for text in allowed):
            self.problems.append(f"console: {message.text}")

    def check(self) -> None:
        assert self.problems == [], "the page logged errors"
        assert self.elsewhere == [], "the page asked another host"


def load(watched: Watched, url: str, wait_ready: bool = True) -> None:
    watched.page.goto(url + "/")
    if wait_ready:
        watched.page.wait_for_selector("body[data-ready=true]", timeout=10_000)


def open_page(browser, url: str, allowed_errors: tuple[str, ...] = (), wait_ready: bool = True,
              clock: bool = True, width: int = 1280, height: int = 800) -> Watched:
    """The dashboard in a tab of its own, `width` x `height`; with `clock`, its timers on Playwright's clock
    (see `poll_now`)."""
    context = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True,
                                  permissions=["clipboard-read", "clipboard-write"])
    watched = Watched(context, url, allowed_errors)
    if clock:
        watched.page.clock.install()
    load(watched, url, wait_ready)
    return watched


def poll_now(page) -> None:
    """Every timer of the page due within POLL_MS fires now: its next poll (a poll under way finishes first),
    the pause after typing into the journal filter."""
    page.clock.run_for(POLL_MS)


def open_newest_entry(page):
    """Bring the journal up to date and open its newest entry: the entry, for its details and buttons."""
    poll_now(page)
    entry = page.locator("#journal li").first
    entry.wait_for(timeout=LIVE)
    entry.locator("summary").click()
    return entry


@pytest.fixture(scope="module")
def tab(browser, server):
    """One tab for the module's `page` tests, closed with the module. A test that expects the page to log
    an error (a refused request) names it in `tab.allowed_errors`, for that test only."""
    watched = open_page(browser, server.url, wait_ready=False)
    yield watched
    watched.context.close()


@pytest.fixture
def page(tab, server):
    """The dashboard, loaded afresh on a freshly reset mock (routes and findings of the test before cleared)."""
    server.reset()
    tab.allowed_errors = ()
    tab.problems.clear()
    tab.elsewhere.clear()
    load(tab, server.url)
    yield tab.page
    tab.page.unroute_all(behavior="ignoreErrors")
    tab.page.goto("about:blank")  # nothing polls between tests
    tab.check()


def eventually(check, timeout: float = LIVE / 1000):
    """Wait for a condition checked through the API (the page acts asynchronously): its first truthy value."""
    return wait_until(check, timeout=timeout, interval=0.05)


# --- a copied line, run as a shell runs it --------------------------------------------------

PASTE_ACTS_ON = re.compile("[\0-\x09\x0b-\x1f\x7f-\x9f]")  # what a pasted line must not hold: C0 but LF, DEL, C1
STUB = """#!/bin/sh
printf '%s\\0' "$@" > "$CURL_ARGV"
cat > "$CURL_STDIN"
"""


@pytest.fixture(scope="module")
def stub(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("stub")
    (folder / "curl").write_text(STUB)
    (folder / "curl").chmod(0o755)
    return folder


def run_pasted(line: str, stub: Path, shell: str = "bash") -> tuple[list[bytes], bytes]:
    """Run a copied line as a shell would, `curl` being the stub: the arguments it got and its input."""
    work = stub / "work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    env = {**os.environ, "PATH": f"{stub}:{os.environ['PATH']}", "CURL_ARGV": str(work / "argv"),
           "CURL_STDIN": str(work / "stdin"), "HOME": str(work)}
    ran = subprocess.run([shell, "-c", line], cwd=work, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                         timeout=10)
    assert ran.returncode == 0, (line, ran.stderr)
    assert sorted(p.name for p in work.iterdir()) == ["argv", "stdin"], f"the line made files: {line!r}"
    return (work / "argv").read_bytes().split(b"\0")[:-1], (work / "stdin").read_bytes()
