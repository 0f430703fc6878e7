"""Shared fixtures: a Flask test client over a fresh mock for every test; one Chromium per worker; the `slow` gate."""
from __future__ import annotations

import os
import re
import signal

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mockserver import Config, create_app

import helpers
from helpers import DEMO_AUTH, OTHER_AUTH, basic, launched_chromium, started_playwright


def pytest_configure(config: pytest.Config) -> None:
    # A shell starting pytest in the background without job control (`pytest &` in a script) has it
    # ignore SIGINT, and every process it starts would inherit that: the tests that stop a CLI with
    # Ctrl-C's signal would wait on a server that cannot hear it. Handled here, it is the default again
    # in every child.
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    helpers.SLOW_ASKED = _names_slow(config.getoption("markexpr", "") or "") or os.environ.get("EMMA_MOCK_SLOW") == "1"


def _names_slow(markexpr: str) -> bool:
    """Whether a `-m` expression asks for `slow` tests: it names `slow`, and not right after a `not`."""
    words = re.findall(r"[\w-]+", markexpr)
    return any(word == "slow" and (i == 0 or words[i - 1] != "not") for i, word in enumerate(words))


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Tests marked `slow` run only with `-m slow` (or EMMA_MOCK_SLOW=1); a bounded variant always runs."""
    if item.get_closest_marker("slow") is not None and not helpers.SLOW_ASKED:
        pytest.skip("long variant: run with -m slow or EMMA_MOCK_SLOW=1")


@pytest.fixture
def app() -> Flask:
    return create_app(Config())


def _client(app: Flask, keys: tuple[str, str] | None) -> FlaskClient:
    client = app.test_client()
    if keys is not None:
        client.environ_base["HTTP_AUTHORIZATION"] = basic(*keys)["Authorization"]
    return client


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client that sends account 100's credentials unless told otherwise."""
    return _client(app, DEMO_AUTH)


@pytest.fixture
def other(app: Flask) -> FlaskClient:
    """A test client with account 101's credentials."""
    return _client(app, OTHER_AUTH)


@pytest.fixture
def anonymous(app: Flask) -> FlaskClient:
    return _client(app, None)


@pytest.fixture(scope="session")
def playwright():
    yield from started_playwright()


@pytest.fixture(scope="session")
def browser(playwright):
    """Headless Chromium, started once per worker for the dashboard's browser tests (a test module's
    tests share one tab, `tab` in browser_pages.py; a test that needs a context of its own opens one)."""
    yield from launched_chromium(playwright)


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto` (pyproject.toml) starts two workers per core: much of the suite waits rather than computes
    (servers starting, the dashboard polling, sockets timing out). Measured on 2 cores from a fresh clone
    (figures in docs/testing.md): 4 workers were the fastest, 2 the slowest."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return 2 * cores
