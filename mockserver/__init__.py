"""emma-mock: a local mock of the Emma API's touchpoints endpoints, for tests and CI."""
from importlib.metadata import PackageNotFoundError, version

from .config import Config
from .serving.app import create_app

try:
    __version__ = version("emma-mock")  # the one place it is written: pyproject.toml
except PackageNotFoundError:  # a source tree on sys.path, never installed
    __version__ = "0+unknown"
__all__ = ["Config", "MockServer", "__version__", "create_app"]


def __getattr__(name: str) -> type:
    if name == "MockServer":  # imported lazily: it pulls in the WSGI server
        from .testing import MockServer
        return MockServer
    raise AttributeError(name)
