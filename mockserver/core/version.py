"""The package's version, read from its installed metadata: pyproject.toml is the one place it is written."""
from importlib.metadata import PackageNotFoundError, version

try:
    VERSION = version("emma-mock")
except PackageNotFoundError:  # a source tree on sys.path, never installed
    VERSION = "0+unknown"
