"""`emma-mock [serve]` (dispatched by `mockserver/__main__.py`): options and MOCKSERVER_* variables → a served mock."""
from __future__ import annotations

import argparse
import logging
import os
import select
import shlex
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..config import SETTINGS, Config
from ..core.errors import InvalidFixture
from ..core.fixtures import DEFAULT_FIXTURE
from ..core.terminal import terminal_safe
from ..core.version import VERSION
from ..wire import mock_of
from .app import create_app

EXIT_USAGE = 2  # bad option, fixture or database: nothing is served


class _Stop(KeyboardInterrupt):
    """Raised in the serving thread by SIGTERM, so it stops like on Ctrl-C.

    A KeyboardInterrupt, because waitress's event loop re-raises only those
    (and SystemExit): any other exception landing inside a socket handler
    would be logged and swallowed, and the server would keep running.
    """


ENV_PREFIX = "MOCKSERVER_"


def _argument_type(parse: Callable[[str], Any], variable: str) -> Callable[[str], Any]:
    def convert(value: str) -> Any:
        try:
            return parse(value)
        except ValueError as exc:
            from_env = os.environ.get(variable) == value
            raise argparse.ArgumentTypeError(f"{exc}{f' (from {variable})' if from_env else ''}") from None
    convert.__name__ = parse.__name__  # argparse names the type in its messages
    return convert


def parser() -> argparse.ArgumentParser:
    """The options, one per field of Config, each also read from its MOCKSERVER_* variable."""
    p = argparse.ArgumentParser(
        prog="emma-mock",
        usage="emma-mock [serve] [options] | emma-mock {capture,verify} URL ... (each with --help)",
        description="A local mock of the Emma API's touchpoints endpoints. "
                    "Every option can also be set with the MOCKSERVER_* variable named beside it.",
        epilog="Commands: serve (the default) serves the mock with these options; "
               "`capture URL -o FILE` writes a fixture from an account of the real API; "
               "`verify URL` compares the real API's answers with the mock's. See docs/contract.md.")
    for setting in SETTINGS:
        meta = setting.metadata
        option, variable = "--" + setting.name.replace("_", "-"), ENV_PREFIX + setting.name.upper()
        from_env = os.environ.get(variable) or None
        default = meta["cli_default"]
        help_text = f"{meta['help']} ({variable}"
        if meta["flag"]:
            try:
                value = _argument_type(meta["parse"], variable)(from_env) if from_env else default
            except argparse.ArgumentTypeError as exc:
                p.error(f"argument {option}: {exc}")
            p.add_argument(option, action="store_true", help=help_text + "=1)", default=value)
            continue
        if isinstance(default, bool):
            help_text += f"; default {'on' if default else 'off'}"
        elif default not in (None, ()):
            help_text += f"; default {default}"
        p.add_argument(option, type=_argument_type(meta["parse"], variable), metavar=meta["metavar"],
                       help=help_text + ")", default=from_env if from_env is not None else default)
    p.add_argument("--version", action="version", version=f"emma-mock {VERSION}")
    return p


def parse_config(argv: Sequence[str] | None = None) -> Config:
    args = parser().parse_args(argv)  # argparse also converts defaults taken from the environment
    return Config(**{setting.name: getattr(args, setting.name) for setting in SETTINGS})


def _fixtures_shown(fixtures: str | Path) -> str:
    shipped = Path(fixtures).resolve() == DEFAULT_FIXTURE.resolve()
    return f"the shipped demo ({fixtures})" if shipped else str(fixtures)


def banner(url: str, config: Config, accounts: list[dict[str, Any]], loaded_from_file: bool = False) -> str:
    if config.db:
        origin = "state loaded from this file" if loaded_from_file else "new file, seeded from the fixtures"
        storage = f"{config.db} ({origin})"
    else:
        storage = "memory (state is lost on exit)"
    lines = [f"emma-mock {VERSION} serving on {url}",
             f"  dashboard: {url}/  (open it in a browser: state, live requests, faults, clock, try it)",
             f"  fixtures: {_fixtures_shown(config.fixtures)}",
             f"  storage:  {storage}",
             f"  auth:     {'on (HTTP Basic: public key / private key)' if config.auth else 'off'}",
             "  accounts:"]
    lines += [f"    {a['account_id']}  public key {a['public_key']!r}  private key {a['private_key']!r}"
              for a in accounts]
    if accounts:
        first = accounts[0]
        credentials = f"-u {shlex.quote(first['public_key'] + ':' + first['private_key'])} " if config.auth else ""
        lines.append(f"  try:      curl {credentials}{url}/{first['account_id']}/touchpoints")
    token = "; send the admin token as X-Admin-Token" if config.admin_token else ""
    lines.append(f"  control:  {url}/__admin (reset, state, requests, faults, clock, rate-limit{token})")
    return "\n".join(terminal_safe(line) for line in lines)  # keys and file names come from files


def _cannot_listen(config: Config, error: Exception) -> str:
    reason = getattr(error, "strerror", None) or error
    return (f"emma-mock: cannot listen on {config.host}:{config.port} ({reason}); "
            "choose another with --host/--port or MOCKSERVER_HOST/MOCKSERVER_PORT (--port 0: any free port)")


def main(argv: Sequence[str] | None = None) -> int:
    """Serve until stopped; `serve` as the first argument is optional."""
    args = list(sys.argv[1:] if argv is None else argv)
    config = parse_config(args[1:] if args[:1] == ["serve"] else args)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from .server import Server

    try:
        app = create_app(config)
    except (InvalidFixture, OSError) as exc:  # OSError: a file the checks above did not name (one line, all the same)
        print(terminal_safe(f"emma-mock: {exc}"), file=sys.stderr)
        return EXIT_USAGE
    try:
        server = Server(app, config.host, config.port, config.threads)
    except (OSError, ValueError) as exc:  # busy port, no such address, a host that is not one
        print(_cannot_listen(config, exc), file=sys.stderr)
        return EXIT_USAGE

    def stop(signum: int, frame: object) -> None:
        raise _Stop()

    signal.signal(signal.SIGTERM, stop)
    mock = mock_of(app)
    print(banner(server.url, config, mock.store.accounts(), mock.loaded_from_file), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:  # Ctrl-C, or SIGTERM through _Stop
        pass
    finally:
        server.stop()
        mock_of(app).close()
    _last_line("emma-mock: stopped")
    return 0


def _last_line(text: str) -> None:
    """Print a line on the way out, unless standard output is a pipe nobody reads that stays full
    for a second: then it is left out rather than holding the stop up forever."""
    try:
        if os.name == "posix" and not select.select([], [sys.stdout.fileno()], [], 1.0)[1]:
            return
    except (AttributeError, OSError, ValueError):
        pass  # no descriptor to wait on (a replaced stdout): print as usual
    print(text, flush=True)


if __name__ == "__main__":
    sys.exit(main())
