"""Test helpers: `MockServer` for unittest and scripts, and the pytest plugin over it."""
from .mock_server import MockServer

__all__ = ["MockServer"]
