"""Settings of one mock server, declared once: the CLI's options, its `MOCKSERVER_*` variables and
`MockServer`'s keyword arguments are all derived from the fields of `Config`.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .core.fixtures import DEFAULT_FIXTURE


def on_off(value: str) -> bool:
    """`on`/`off` (also true/false, 1/0, yes/no) as a bool; ValueError naming the choices."""
    lowered = value.strip().lower()
    if lowered in ("on", "true", "1", "yes"):
        return True
    if lowered in ("off", "false", "0", "no"):
        return False
    raise ValueError(f"expected on or off, got {value!r}")


def port_number(value: str) -> int:
    try:
        port = int(value) if value.isascii() else -1  # int() would also read Unicode digits
    except ValueError:
        raise ValueError(f"expected a port number, got {value!r}") from None
    if not 0 <= port <= 65535:
        raise ValueError(f"port must be 0 to 65535, got {port}")
    return port


def positive_int(value: str) -> int:
    try:
        number = int(value) if value.isascii() else 0  # int() would also read Unicode digits
    except ValueError:
        number = 0
    if number < 1:
        raise ValueError(f"expected a positive integer, got {value!r}")
    return number


def host_names(value: str) -> tuple[str, ...]:
    """`--allowed-hosts`: comma-separated Host names (any case, without port), or `*` for any."""
    names = tuple(dict.fromkeys(name.strip().lower().removesuffix(".") for name in value.split(",")
                                if name.strip()))
    for name in names:
        if name != "*" and (not name.isascii() or any(char in name for char in " /:@[]*?#")):
            raise ValueError(f"expected Host names such as mock.example.test (no port, no scheme), "
                             f"or * for any; got {name!r}")
    return names


def printable_token(value: str) -> str:
    """`--admin-token`: printable ASCII, the only bytes every client sends alike in a header."""
    if not value or not all(" " <= char <= "~" for char in value):
        raise ValueError("expected printable ASCII (letters, digits, punctuation): curl sends other characters as "
                         "UTF-8 and Python's requests as Latin-1, so no client could match every one")
    return value


def _setting(default: Any, help: str, parse: Callable[[str], Any] = str, metavar: str | None = None,
             cli_default: Any = None, flag: bool = False) -> Any:
    """A field of Config with what the CLI needs: help, how to read it from text, and its CLI default."""
    return field(default=default, metadata={"help": help, "parse": parse, "metavar": metavar,
                                            "cli_default": default if cli_default is None else cli_default,
                                            "flag": flag})


@dataclass
class Config:
    host: str = _setting("127.0.0.1", "address to bind (0.0.0.0 for every interface)")
    port: int = _setting(8080, "port; 0 picks a free one", port_number)
    fixtures: str | Path = _setting(DEFAULT_FIXTURE, "fixture file, or folder of *.json files",
                                    metavar="PATH")
    db: str | Path | None = _setting(None, "keep the state in this TinyDB file across restarts, "
                                           "instead of in memory only", metavar="FILE")
    auth: bool = _setting(True, "check HTTP Basic credentials (off: any caller may use any account)",
                          on_off, metavar="{on,off}")
    admin_token: str | None = _setting(None, "require this token for /__admin and the dashboard",
                                       printable_token, metavar="TOKEN")
    journal_size: int = _setting(1000, "API requests kept by the journal", positive_int, metavar="N")
    threads: int = _setting(8, "worker threads", positive_int, metavar="N")
    quiet: bool = _setting(True, "do not print a line per API request", on_off, cli_default=False, flag=True)
    allowed_hosts: tuple[str, ...] | str = _setting(
        (), "Host names to answer besides IP addresses, localhost, *.localhost and single-label names "
            "(comma-separated; * for any): a web page can point any other name at the mock",
        host_names, metavar="NAMES")

    def __post_init__(self) -> None:
        if self.admin_token is not None:  # MockServer(admin_token=...) is checked as the CLI checks it
            printable_token(self.admin_token)
        if isinstance(self.allowed_hosts, str):  # MockServer(allowed_hosts="a.test,b.test"), as the CLI reads it
            self.allowed_hosts = host_names(self.allowed_hosts)
        else:
            self.allowed_hosts = host_names(",".join(self.allowed_hosts))


SETTINGS = fields(Config)
