"""Shared fixtures: a Flask test client over a fresh mock for every test."""
from __future__ import annotations

import pytest

from mockserver import Config, create_app

DEMO_AUTH = ("demo-public-key", "demo-private-key")
OTHER_AUTH = ("other-public-key", "other-private-key")


@pytest.fixture
def app():
    return create_app(Config())


@pytest.fixture
def client(app):
    """A test client that sends account 100's credentials unless told otherwise."""
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = _basic(*DEMO_AUTH)
    return client


@pytest.fixture
def other(app):
    """A test client with account 101's credentials."""
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = _basic(*OTHER_AUTH)
    return client


@pytest.fixture
def anonymous(app):
    return app.test_client()


def _basic(user: str, password: str) -> str:
    import base64
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": _basic(user, password)}
