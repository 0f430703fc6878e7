"""Limits that more than one layer enforces: every place that caps a body or a target asks these."""
from __future__ import annotations

from .fixtures import MAX_FIXTURE_BYTES

MAX_BODY_BYTES = 10 * 1024 * 1024  # the real API refuses bodies over 10 MiB
MAX_STATE_BYTES = MAX_FIXTURE_BYTES  # PUT /__admin/state takes any fixture the server could load
MAX_TARGET_BYTES = 8 * 1024  # a longer request target (path with query) is a 414, before any matching
BATCH_LIMIT = 10  # touchpoints in one create: "Create up to 10 touchpoints."
STATE_UPLOAD = ("PUT", "/__admin/state")  # the one request that may carry a whole fixture


def body_cap(method: str, path: str) -> int:
    """The most bytes a request body may hold: 10 MiB, or a whole fixture for `PUT /__admin/state`."""
    if method.upper() == STATE_UPLOAD[0] and path.rstrip("/") == STATE_UPLOAD[1]:
        return MAX_STATE_BYTES
    return MAX_BODY_BYTES


def too_large_message(length: int, cap: int) -> str:
    """The one 413 message, whoever refuses the body (the server from its headers, the front, a view)."""
    return (f"request body of {length} bytes is over the {cap} bytes ({cap // 2**20} MiB) "
            "this endpoint accepts")


def target_too_long_message() -> str:
    """The 414 message, from the server's parser or the front."""
    return (f"the request target (path and query) is over the {MAX_TARGET_BYTES} bytes "
            "(8 KiB) this server reads; send a shorter path, or put long data in the body")
