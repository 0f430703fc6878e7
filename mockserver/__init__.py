"""emma-mock: a local mock of the Emma API's touchpoints endpoints, for tests and CI."""
from .config import Config
from .core.version import VERSION as __version__
from .serving.app import create_app

__all__ = ["Config", "MockServer", "__version__", "create_app"]


def __getattr__(name: str) -> type:
    if name == "MockServer":  # imported lazily: it pulls in the WSGI server
        from .testing import MockServer
        return MockServer
    raise AttributeError(name)
