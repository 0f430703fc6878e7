"""`emma-mock capture` and `emma-mock verify`: their options, reports and exit statuses."""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from ..config import positive_int
from ..core.terminal import terminal_safe
from .capture import Capture, Progress, placeholder_email, read_account
from .client import KEY_VARIABLES, ApiClient, CannotRun, RequestFailed, keys_from
from .verify import MockSide, RealSide, Result, clean_up, read_checks, run_check, run_name, seed_results, write_checks

EXIT_SAME, EXIT_DIFFERS, EXIT_CANNOT_RUN = 0, 1, 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it

KEYS_HELP = (f"Keys: --public-key/--private-key, or {KEY_VARIABLES[0]}/{KEY_VARIABLES[1]} (better: options show in "
             "the process list). They are never printed, logged or written to a file.")


def _say(text: str, file: TextIO | None = None) -> None:
    """Print a line whose parts may come from the API's answers, with nothing a terminal acts on."""
    print(terminal_safe(text), file=file or sys.stdout)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("url", metavar="URL", help="the account's API base, as a client uses it: "
                                              "https://api.e2ma.net/ACCOUNT_ID (any http(s) URL ending in the id)")
    p.add_argument("--public-key", metavar="KEY", help=f"public API key (default: ${KEY_VARIABLES[0]})")
    p.add_argument("--private-key", metavar="KEY", help=f"private API key (default: ${KEY_VARIABLES[1]})")


def capture_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="emma-mock capture",
        description="Read an account of the real Emma API (GET only, documented endpoints): its touchpoint types, "
                    "its first members and their touchpoints, and write a fixture file that "
                    "`emma-mock --fixtures FILE` serves, so the mock answers those GETs as the API did. "
                    "Emails become member-<id>@example.invalid and member fields are dropped unless "
                    "--keep-personal-data. The account gets new keys (printed), never the real ones. Fields "
                    "the mock does not model are left out and listed. Rate limits (403 + Retry-After) are waited "
                    "out; progress goes to stderr.",
        epilog=KEYS_HELP + " Exit status: 0 written; 1 a request failed (named); 2 bad usage, keys refused "
                           "or nothing answering at URL.")
    _common(p)
    p.add_argument("-o", "--output", metavar="FILE", required=True, help="the fixture file to write")
    p.add_argument("--members", metavar="N", type=_count, default=500,
                   help="capture at most N members, in the API's order, with their touchpoints (default 500)")
    p.add_argument("--keep-personal-data", action="store_true",
                   help="keep members' real emails and fields in the file (written readable by you only)")
    return p


def verify_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="emma-mock verify",
        description="Run one scenario against URL and against a mock seeded in memory from a capture of the "
                    "same account, and compare: status codes, JSON shapes (field names, types, null or value, "
                    "list or object, the @D: date form) and the seeded values. Ids and times the servers make "
                    "are compared by form; error bodies by shape. Reads only (every GET endpoint, paging, "
                    "count=true, unknown ids, wrong keys) unless --writes. One line per check.",
        epilog=KEYS_HELP + " Exit status: 0 nothing differs; 1 something differs (a 5xx too); 2 it cannot run "
                           "(bad usage, keys refused, nothing answering at URL); 130 interrupted (after clean-up).")
    _common(p)
    p.add_argument("--members", metavar="N", type=_count, default=20,
                   help="members to capture and compare (default 20)")
    p.add_argument("--writes", action="store_true",
                   help="also create a touchpoint type and a touchpoint named emma_mock_verify_*, read and delete "
                        "them; whatever this run created is removed at the end, on failure or Ctrl-C too")
    p.add_argument("--strict", action="store_true", help="fields the mock does not model count as differences")
    p.add_argument("--json", action="store_true", help="print one JSON report instead of lines")
    return p


def _count(text: str) -> int:
    if text == "0":
        return 0
    try:
        return positive_int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected 0 or a positive integer, got {text!r}") from exc


def main(argv: Sequence[str]) -> int:
    """`argv` starts with the subcommand's name."""
    command, rest = argv[0], list(argv[1:])
    run = _capture if command == "capture" else _verify
    parser = capture_parser() if command == "capture" else verify_parser()
    args = parser.parse_args(rest)
    progress = Progress(sys.stderr, prefix=command)
    client: ApiClient | None = None
    try:
        client = ApiClient(args.url, keys_from(args.public_key, args.private_key), on_wait=progress.waiting)
        return run(args, client, progress)
    except CannotRun as exc:
        _say(f"emma-mock {command}: {client.redact(str(exc)) if client else exc}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    except RequestFailed as exc:
        _say(f"emma-mock {command}: {client.redact(str(exc)) if client else exc}", file=sys.stderr)
        return EXIT_DIFFERS
    except KeyboardInterrupt:  # (verify --writes handles its own, to clean up first)
        _say(f"emma-mock {command}: interrupted; nothing was written", file=sys.stderr)
        return EXIT_INTERRUPTED


def _capture(args: argparse.Namespace, client: ApiClient, progress: Progress) -> int:
    output = Path(args.output)
    if output.is_dir() or not output.parent.is_dir() or not os.access(output.parent, os.W_OK):
        raise CannotRun(f"{output}: cannot be written (no such folder, a folder, or no permission); "
                        "give another -o FILE")
    started = time.monotonic()
    capture = read_account(client, args.members, args.keep_personal_data, progress)
    for note in capture.notes:
        progress.line(str(note))
    size = _write(output, capture.document, private=args.keep_personal_data)
    _say(f"captured account {capture.account_id}: {capture.summary()} in {time.monotonic() - started:.1f} s")
    _say(f"wrote {output} ({size / 1024:.0f} KiB); serve it with: emma-mock --fixtures {output}")
    public_key, private_key = capture.keys
    _say(f"the mock's keys for account {capture.account_id} (new ones, not the real keys): "
          f"public {public_key} private {private_key}")
    unmodelled = _unmodelled(capture)
    if unmodelled:
        _say(f"not modelled by the mock, left out: {unmodelled}")
    if not args.keep_personal_data:
        _say(f"personal data left out: emails are {placeholder_email(0).replace('0', '<member_id>', 1)}, "
              "member fields are {} (--keep-personal-data keeps them)")
    return EXIT_SAME


def _unmodelled(capture: Capture) -> str:
    return "; ".join(f"{collection}: {', '.join(sorted(names))}"
                     for collection, names in sorted(capture.not_modelled.items()) if names)


def _write(path: Path, document: dict[str, list[dict[str, Any]]], private: bool) -> int:
    """The fixture, a record per line; readable by its owner only when it holds personal data."""
    parts = []
    for collection, records in document.items():
        lines = ",\n  ".join(json.dumps(record, ensure_ascii=False) for record in records)
        parts.append(f'"{collection}": [\n  {lines}\n]' if records else f'"{collection}": []')
    text = "{" + ",\n".join(parts) + "}\n"
    try:
        if path.exists():
            path.unlink()  # a new file, so that its mode is the one set here
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if private else 0o644)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
    except OSError as exc:
        raise RequestFailed(f"{path}: cannot be written ({exc.strerror or exc}); give another -o FILE") from None
    return len(text.encode())


def _verify(args: argparse.Namespace, client: ApiClient, progress: Progress) -> int:
    try:
        capture = read_account(client, args.members, keep_personal_data=True, progress=progress)
    except RequestFailed as exc:  # a 5xx or an unreadable list: the mock cannot be seeded, a difference
        return _report(args, client, [Result("capture", "differs", reason=client.redact(str(exc)))], None)
    real, mock = RealSide(client), MockSide(capture)
    results = seed_results(capture)
    ids: dict[str, dict[str, Any]] = {"real": {}, "mock": {}}
    for check in read_checks(capture):
        results.append(run_check(check, real, mock, ids))
    if not args.writes:
        return _report(args, client, results, None)
    name = run_name()
    previous = signal.signal(signal.SIGTERM, _interrupt)
    interrupted = False
    cleanup: str | None = "not run"
    try:
        checks = write_checks(capture, name)
        if not checks:
            results.append(Result("writes", "skipped", reason="no captured member to post touchpoints for"))
        for check in checks:
            results.append(run_check(check, real, mock, ids))
    except KeyboardInterrupt:
        interrupted = True
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not stop the clean-up
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            cleanup = clean_up(client, name, ids["real"])
        except (CannotRun, RequestFailed) as exc:
            cleanup = f"{client.redact(str(exc))}; look for touchpoint types named {name!r} and delete them"
        finally:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.signal(signal.SIGTERM, previous)
    results.append(Result(f"clean-up of {name}", "differs" if cleanup else "same", reason=cleanup or ""))
    code = _report(args, client, results, name)
    return EXIT_INTERRUPTED if interrupted else code


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt()


def _report(args: argparse.Namespace, client: ApiClient, results: list[Result], name: str | None) -> int:
    failed = [r for r in results if r.outcome == "differs" or (args.strict and any(not d.modelled
                                                                                   for d in r.differences))]
    code = EXIT_DIFFERS if failed else EXIT_SAME
    counts = {outcome: sum(r.outcome == outcome for r in results) for outcome in ("same", "differs", "skipped")}
    unmodelled = sorted({d.where for r in results for d in r.differences if not d.modelled})
    if args.json:
        report = {"url": client.redact(client.base), "account_id": client.account_id, "writes": args.writes,
                  "strict": args.strict, "records": name, "checks": [r.as_json() for r in results],
                  "summary": counts, "exit_status": code}
        sys.stdout.write(json.dumps(report, indent=1, default=repr) + "\n")  # JSON escapes control characters
        return code
    for result in results:
        line = result.line(args.strict)
        if args.strict and result.outcome == "same" and any(not d.modelled for d in result.differences):
            line = "differs" + line[len("same"):]
        _say(line)
    _say(f"verify: {len(results)} checks against {client.redact(client.base)}: {counts['same']} same, "
          f"{counts['differs']} differ, {counts['skipped']} skipped"
          + (f"; {len(unmodelled)} fields not modelled{' (--strict: they count)' if args.strict else ''}"
             if unmodelled else ""))
    return code
