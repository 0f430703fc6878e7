"""Settings of one mock server, from arguments, `MOCKSERVER_*` variables or code."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .core.fixtures import DEFAULT_FIXTURE, MAX_FIXTURE_BYTES

MAX_BODY_BYTES = 10 * 1024 * 1024  # the real API refuses bodies over 10 MB
MAX_STATE_BYTES = MAX_FIXTURE_BYTES  # PUT /__admin/state takes any fixture the server could load


@dataclass
class Config:
    host: str = "127.0.0.1"
    port: int = 8080
    fixtures: str | Path = DEFAULT_FIXTURE
    db: str | Path | None = None
    auth: bool = True
    admin_token: str | None = None
    journal_size: int = 1000
    threads: int = 8
