"""Access to the running mock's store, and the request's one clock reading, from a view."""
from datetime import datetime

from flask import request

from ..control.mock import current_mock
from ..core.store import Store

NOW = "mockserver.now"  # the environ key the control layer puts the request's clock reading under


def store() -> Store:
    return current_mock().store


def now() -> datetime:
    """The mock clock's one reading for this request: its journal `time`, and every date it makes."""
    reading: datetime | None = request.environ.get(NOW)
    return reading if reading is not None else current_mock().clock.now()
