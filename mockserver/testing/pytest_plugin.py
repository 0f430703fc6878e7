"""pytest plugin, registered by the `pytest11` entry point: installing emma-mock is all it takes.

* `emma_mock_server`: one mock per test session (per xdist worker). By default a
  real server on a free port in a background thread of the test process; with
  `--emma-mock-url URL` (ini `emma_mock_url`, env `EMMA_MOCK_URL`) the mock
  already running there, such as a container in CI.
* `emma_mock`: the same mock, reset to its fixtures before each test, so no
  state, fault, clock or rate limit leaks from one test into the next.

`--emma-mock-fixtures PATH` (ini `emma_mock_fixtures`, relative to the rootdir)
chooses the fixtures of the in-process server.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..core.fixtures import DEFAULT_FIXTURE
from .mock_server import MockClient, MockServer

FIXTURES = "emma_mock_fixtures"
URL = "emma_mock_url"
ADMIN_TOKEN = "emma_mock_admin_token"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("emma-mock")
    parser.addini(FIXTURES, "fixture file or folder that emma_mock serves (default: the shipped demo)")
    group.addoption("--emma-mock-fixtures", dest=FIXTURES, default=None, metavar="PATH",
                    help="fixture file or folder that emma_mock serves (overrides the ini setting)")
    parser.addini(URL, "use the emma-mock running at this URL instead of starting one (env EMMA_MOCK_URL)")
    group.addoption("--emma-mock-url", dest=URL, default=None, metavar="URL",
                    help="use the emma-mock running at this URL, e.g. a container (env EMMA_MOCK_URL)")
    group.addoption("--emma-mock-admin-token", dest=ADMIN_TOKEN, default=None, metavar="TOKEN",
                    help="admin token of the running mock (env EMMA_MOCK_ADMIN_TOKEN)")


def _setting(config: pytest.Config, name: str) -> str | None:
    """Command line first, then the ini file, then the EMMA_MOCK_* variable."""
    value = config.getoption(name)
    if not value and name != ADMIN_TOKEN:
        value = config.getini(name)
    return value or os.environ.get(name.upper()) or None


def _fixtures(config: pytest.Config) -> Path:
    chosen = config.getoption(FIXTURES) or config.getini(FIXTURES)
    if not chosen:
        return DEFAULT_FIXTURE
    path = Path(chosen)
    return path if path.is_absolute() else config.rootpath / path


def _attach(config: pytest.Config, url: str) -> MockClient:
    """The running mock at `url`; when it cannot be reached the whole run stops, saying so once."""
    try:
        return MockServer.connect(url, _setting(config, ADMIN_TOKEN))
    except (ConnectionError, ValueError) as exc:
        raise pytest.UsageError(f"--emma-mock-url: {exc}") from None


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """With --emma-mock-url and tests that use the mock, check once that it answers, before any test runs."""
    url = _setting(session.config, URL)
    if not url:
        return
    if any("emma_mock_server" in getattr(item, "fixturenames", ()) for item in session.items):
        _attach(session.config, url).close()


@pytest.fixture(scope="session")
def emma_mock_server(pytestconfig: pytest.Config) -> Iterator[MockClient]:
    """A mock for the whole session; state is shared between tests (see `emma_mock`)."""
    url = _setting(pytestconfig, URL)
    if url:
        with _attach(pytestconfig, url) as attached:
            yield attached
        return
    with MockServer(fixtures=_fixtures(pytestconfig)) as server:
        yield server


@pytest.fixture
def emma_mock(emma_mock_server: MockClient) -> MockClient:
    """The session's mock, reset to its fixtures for this test."""
    emma_mock_server.reset()
    return emma_mock_server
