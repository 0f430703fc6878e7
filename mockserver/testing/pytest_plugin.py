"""pytest plugin, registered by the `pytest11` entry point: installing emma-mock is all it takes.

* `emma_mock_server`: one real server per test session (per xdist worker), on a
  free port, served by waitress in a background thread of the test process.
* `emma_mock`: the same server, reset to the fixtures before each test, so no
  state, fault, clock or rate limit leaks from one test into the next.

Choose the fixture file with `--emma-mock-fixtures PATH` or the ini setting
`emma_mock_fixtures` (relative to the rootdir).
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ..core.fixtures import DEFAULT_FIXTURE
from .mock_server import MockServer

INI_NAME = "emma_mock_fixtures"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(INI_NAME, "fixture file or folder that emma_mock serves (default: the shipped demo)")
    parser.getgroup("emma-mock").addoption(
        "--emma-mock-fixtures", dest=INI_NAME, default=None, metavar="PATH",
        help="fixture file or folder that emma_mock serves (overrides the ini setting)")


def _fixtures(config: pytest.Config) -> Path:
    chosen = config.getoption(INI_NAME) or config.getini(INI_NAME)
    if not chosen:
        return DEFAULT_FIXTURE
    path = Path(chosen)
    return path if path.is_absolute() else config.rootpath / path


@pytest.fixture(scope="session")
def emma_mock_server(pytestconfig: pytest.Config) -> Iterator[MockServer]:
    """A mock server for the whole session; state is shared between tests (see `emma_mock`)."""
    with MockServer(fixtures=_fixtures(pytestconfig)) as server:
        yield server


@pytest.fixture
def emma_mock(emma_mock_server: MockServer) -> MockServer:
    """The session's mock server, reset to its fixtures for this test."""
    emma_mock_server.reset()
    return emma_mock_server
