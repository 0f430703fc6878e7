"""`emma-mock` / `python -m mockserver`: options and MOCKSERVER_* variables → a served mock."""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Sequence

from .. import __version__
from .app import create_app
from ..config import Config
from ..core.errors import InvalidFixture
from ..core.fixtures import DEFAULT_FIXTURE

EXIT_USAGE = 2  # bad option, fixture or database: nothing is served


class _Stop(KeyboardInterrupt):
    """Raised in the serving thread by SIGTERM, so it stops like on Ctrl-C.

    A KeyboardInterrupt, because waitress's event loop re-raises only those
    (and SystemExit): any other exception landing inside a socket handler
    would be logged and swallowed, and the server would keep running.
    """


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(f"MOCKSERVER_{name}", default)


def _on_off(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("on", "true", "1", "yes"):
        return True
    if lowered in ("off", "false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected on or off, got {value!r}")


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {value!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port must be 0 to 65535, got {port}")
    return port


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value!r}")
    return number


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="emma-mock",
        description="A local mock of the Emma API's touchpoints endpoints. "
                    "Every option can also be set with the MOCKSERVER_* variable named beside it.")
    p.add_argument("--host", default=_env("HOST", "127.0.0.1"),
                   help="address to bind (MOCKSERVER_HOST; default 127.0.0.1, 0.0.0.0 for every interface)")
    p.add_argument("--port", type=_port, default=_env("PORT", "8080"),
                   help="port (MOCKSERVER_PORT; default 8080; 0 picks a free one)")
    p.add_argument("--fixtures", default=_env("FIXTURES", str(DEFAULT_FIXTURE)),
                   help="fixture file, or folder of *.json files (MOCKSERVER_FIXTURES; default: the shipped demo)")
    p.add_argument("--db", default=_env("DB") or None,
                   help="keep the state in this TinyDB file across restarts (MOCKSERVER_DB; default: memory)")
    p.add_argument("--auth", type=_on_off, default=_env("AUTH", "on"),
                   help="check HTTP Basic credentials: on or off (MOCKSERVER_AUTH; default on)")
    p.add_argument("--admin-token", default=_env("ADMIN_TOKEN") or None,
                   help="require this token for /__admin (MOCKSERVER_ADMIN_TOKEN; default: none)")
    p.add_argument("--journal-size", type=_positive, default=_env("JOURNAL_SIZE", "1000"),
                   help="requests kept by the journal (MOCKSERVER_JOURNAL_SIZE; default 1000)")
    p.add_argument("--threads", type=_positive, default=_env("THREADS", "8"),
                   help="worker threads (MOCKSERVER_THREADS; default 8)")
    p.add_argument("--version", action="version", version=f"emma-mock {__version__}")
    return p


def parse_config(argv: Sequence[str] | None = None) -> Config:
    args = parser().parse_args(argv)  # argparse also converts defaults taken from the environment
    return Config(host=args.host, port=args.port, fixtures=args.fixtures, db=args.db, auth=args.auth,
                  admin_token=args.admin_token, journal_size=args.journal_size, threads=args.threads)


def banner(url: str, config: Config, accounts: list[dict]) -> str:
    lines = [f"emma-mock {__version__} serving on {url}",
             f"  dashboard: {url}/  (open it in a browser: state, live requests, faults, clock, try it)",
             f"  fixtures: {config.fixtures}",
             f"  storage:  {config.db or 'memory (state is lost on exit)'}",
             f"  auth:     {'on (HTTP Basic: public key / private key)' if config.auth else 'off'}",
             "  accounts:"]
    lines += [f"    {a['account_id']}  public key {a['public_key']!r}  private key {a['private_key']!r}"
              for a in accounts]
    if accounts:
        first = accounts[0]
        credentials = f"-u {first['public_key']}:{first['private_key']} " if config.auth else ""
        lines.append(f"  try:      curl {credentials}{url}/{first['account_id']}/touchpoints")
    lines.append("  control:  " + url + "/__admin/health (reset, state, requests, faults, clock, rate-limit)")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    config = parse_config(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from .server import Server

    try:
        app = create_app(config)
    except InvalidFixture as exc:
        print(f"emma-mock: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        server = Server(app, config.host, config.port, config.threads)
    except OSError as exc:
        print(f"emma-mock: cannot listen on {config.host}:{config.port} ({exc.strerror or exc})", file=sys.stderr)
        return EXIT_USAGE

    def stop(signum: int, frame: object) -> None:
        raise _Stop()

    signal.signal(signal.SIGTERM, stop)
    print(banner(server.url, config, app.extensions["emma_mock"].store.accounts()), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:  # Ctrl-C, or SIGTERM through _Stop
        pass
    finally:
        server.stop()
        app.extensions["emma_mock"].close()
    print("emma-mock: stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
