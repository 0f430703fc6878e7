"""Access to the running mock's store from a view."""
from ..control.mock import current_mock
from ..core.store import Store


def store() -> Store:
    return current_mock().store
