"""Access to the running mock's store from a view."""
from flask import current_app

from ..core.store import Store


def store() -> Store:
    return current_app.extensions["emma_mock"].store
