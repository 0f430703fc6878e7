"""`GET /__admin/requests/export`: the session since the last reset as a pytest module that replays it.

The module uses the plugin's `emma_mock` fixture (reset before the test, so
ids restart as they did at the session's reset). It sends every journaled API
request in order, with the controls between them that change answers (faults
with the seed their draws came from, the rate limit, state loads), the clock
frozen at each request's recorded reading, and the credentials authentication
saw (none, an account's keys, or keys of no account); it asserts each status
and body as recorded, and a dropped connection as a connection error.

Everything a client sent reaches the module only as a literal built by
`repr()` (or percent-encoded into a URL), and any text in its
docstring or comments is escaped, so the module is valid Python, whatever was
sent, and does nothing but replay. What cannot be replayed is said at the top.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from ..core import strict_json
from ..core.dates import format_date
from ..core.errors import NotFound
from ..core.fixtures import DEFAULT_FIXTURE
from ..core.ids import account_in_path
from ..state.journal import NO_KEYS, WRONG_KEYS, entry_id
from ..state.mock import Mock
from ..state.session import Control

FILENAME = "test_emma_mock_session.py"
CONTENT_TYPE = "text/x-python"
WRONG_KEYS_LITERAL = '("not-an-emma-public-key", "not-an-emma-private-key")'
_LITERAL_DEPTH = 40  # deeper JSON is written as json.loads("...") (Python's parser nests about 200 levels)
_URL_SAFE = "/!$&'()*+,;=:@?%"  # besides letters, digits and -._~: what a URL keeps as typed (the raw query)
# The journal's path is decoded already: a `%` or `?` in it is that character, so each is encoded again
_SEGMENT_SAFE = "!$&'()*+,;=:@"
_WIDTH = 110
_METHODS = {"GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS"}  # requests.<method>(...)

# What each API request's answer is called in the module: (method, path pattern, name)
_NAMES = [
    ("GET", r"/[0-9]+/touchpoints", "types"),
    ("POST", r"/[0-9]+/touchpoints", "created_type"),
    ("GET", r"/[0-9]+/touchpoints/([0-9]+)", "type_{}"),
    ("PUT", r"/[0-9]+/touchpoints/([0-9]+)", "updated_type_{}"),
    ("DELETE", r"/[0-9]+/touchpoints/([0-9]+)", "deleted_type_{}"),
    ("POST", r"/[0-9]+/touchpoints/members", "created_touchpoints"),
    ("GET", r"/[0-9]+/touchpoints/members/([0-9]+)", "member_{}_touchpoints"),
    ("GET", r"/[0-9]+/touchpoints/members/touchpoints/([0-9]+)", "touchpoint_{}"),
    ("DELETE", r"/[0-9]+/touchpoints/members/touchpoints/([0-9]+)", "deleted_touchpoint_{}"),
    ("POST", r"/[0-9]+/members/add", "added_member"),
    ("GET", r"/[0-9]+/members", "members"),
    ("GET", r"/[0-9]+/members/([0-9]+)", "member_{}"),
    ("GET", r"/[0-9]+/members/email/.+", "member_by_email"),
    ("DELETE", r"/[0-9]+/members/([0-9]+)", "deleted_member_{}"),
]
_NAME_PATTERNS = [(method, re.compile(pattern), name) for method, pattern, name in _NAMES]


@dataclass
class _Module:
    """The module being written: its notes for the top, its test's lines, the rest."""

    notes: list[str] = field(default_factory=list)  # what is not replayed as recorded
    lines: list[str] = field(default_factory=list)  # the body of test_session
    stopped: str | None = None  # why the replay stops early (the rest is a skipped test)
    needs_json: bool = False
    wrong_keys: bool = False  # whether a request sends keys of no account
    raises: bool = False  # whether a request expects a dropped connection (pytest.raises)
    unknown_accounts: set[int] = field(default_factory=set)  # with --auth off, accounts not in the state
    xfail: str | None = None  # why the test is expected to fail, when a note says it may
    frozen: str | None = None  # the clock reading the replay froze last


def session_module(mock: Mock, until_text: str | None = None) -> str:
    """The pytest module that replays `mock`'s session since its last reset, up to entry `until_text`
    (the query parameter; a BadRequest when it is no entry id, NotFound when the session has no such entry)."""
    until = entry_id(until_text, "until")
    session = mock.session
    entries = mock.journal.raw_entries(after=session.first_id - 1)
    controls = list(session.controls)
    if until is not None:
        if not any(entry["id"] == until for entry in entries):
            kept = f"entries {entries[0]['id']} to {entries[-1]['id']}" if entries else "no entries"
            raise NotFound(f"no journal entry {until} in the session since the last reset (the journal holds "
                           f"{kept}); 'until' takes the id of one of them")
        entries = [entry for entry in entries if entry["id"] <= until]
        controls = [control for control in controls if control.after < until]
    module = _Module()
    _say_what_differs(mock, module, entries, session.first_id)
    _say_what_overlapped(module, entries, controls)
    # A control noted after entry N goes after it and before N + 1 (sorted is stable: controls keep their order).
    steps: list[tuple[int, int, dict[str, Any] | Control]] = sorted(
        [(entry["id"], 0, entry) for entry in entries] + [(control.after, 1, control) for control in controls],
        key=lambda step: (step[0], step[1]))
    for _, _, step in steps:
        if module.stopped is not None:
            break
        if isinstance(step, Control):
            _control(module, step)
        else:
            _request(mock, module, step)
    return _write(mock, module, entries)


def _say_what_differs(mock: Mock, module: _Module, entries: list[dict[str, Any]], first_id: int) -> None:
    session = mock.session
    if session.from_file:
        _may_fail(module, "The session began from the server's --db file, not from its fixtures, and "
                          "this replay starts from the fixtures: answers may differ")
    oldest = entries[0]["id"] if entries else mock.journal.latest_id + 1
    if oldest > first_id:
        verb = "is" if oldest - 1 == first_id else "are"
        _may_fail(module, f"Journal {_entries(first_id, oldest - 1)} of this session {verb} no longer held "
                          "(the journal was cleared, or dropped its oldest entries past its limit): the "
                          "replay starts without them, so answers may differ")
    if session.dropped:
        _may_fail(module, f"{session.dropped} early controls of this session were dropped past the "
                          "session's limit: the replay starts without them")
    if not mock.config.auth:
        module.notes.append("The server ran with --auth off; the plugin's server checks keys, so each "
                            "request sends the keys of its path's account, when that account existed.")


def _say_what_overlapped(module: _Module, entries: list[dict[str, Any]], controls: list[Control]) -> None:
    """Requests that overlapped, in a session whose answers hang on their order: a fault that counts or draws
    (`times`, `probability`) decides when a request comes in, a rate limit counts requests as they are
    admitted, and the replay sends each request once the one before is answered. (A fault with neither
    acts on every request it matches, whatever the order.)"""
    if not any(control.helper == "set_rate_limit"
               or (control.helper == "add_fault" and (control.arguments.get("times") is not None
                                                      or control.arguments.get("probability") is not None))
               for control in controls):
        return
    latest = {"arrived": 0, "id": 0}  # of the entries so far, the one that came in last
    for entry in entries:
        if entry["arrived"] < latest["arrived"]:
            _may_fail(module, f"Entry {entry['id']} came in before entry {latest['id']} but was answered after "
                              "it, in a session with a rate limit or a fault that counts or draws: the replay "
                              "sends requests one at a time, in the order they were answered, so the limit or "
                              "the fault may act on another request than it did")
            return
        latest = entry


def _may_fail(module: _Module, note: str) -> None:
    """A note on what makes answers differ: the test is marked xfail, for the first such reason."""
    module.notes.append(f"{note} (the test is marked xfail).")
    module.xfail = module.xfail or note


def _entries(first: int, last: int) -> str:
    return f"entry {first}" if first == last else f"entries {first} to {last}"


def _control(module: _Module, control: Control) -> None:
    arguments = control.arguments
    if control.helper == "load":
        if arguments["state"] is None:
            module.stopped = (f"the state loaded after entry {control.after} was too large for the session to "
                              "keep, so the replay stops before it")
            return
        module.lines.append(f"    state = {_literal(module, arguments['state'], 4)}")
        module.lines.append("    emma_mock.load(state)")
        return
    if control.helper == "add_fault":
        words = [f"{name}={_literal(module, value, 4)}" for name, value in arguments.items()]
    elif control.helper == "remove_fault":
        words = [str(arguments["fault_id"])]
    elif control.helper == "set_rate_limit":
        words = [repr(arguments["requests"]), repr(arguments["per_seconds"])]
    else:  # clear_faults, clear_rate_limit
        words = []
    module.lines.append(f"    emma_mock.{control.helper}({', '.join(words)})")


def _request(mock: Mock, module: _Module, entry: dict[str, Any]) -> None:
    number, method, path = entry["id"], entry["method"], entry["path"]
    cut = [name for name in entry.get("cut", ()) if name in ("method", "path", "query", "body")]
    if cut:
        module.stopped = (f"entry {number}'s {' and '.join(cut)} {'was' if len(cut) == 1 else 'were'} cut "
                          "by the journal's limits, so it cannot be sent again and the replay stops before it")
        return
    if entry["status"] is None and entry["fault"] is None:
        module.stopped = f"entry {number} got no answer and no fault dropped it, so the replay stops before it"
        return
    label = f"{number}: {method} {path}" + (f"?{entry['query']}" if entry["query"] else "")
    lines = module.lines
    lines.append(f"    # {_escaped(label)}")
    reading = format_date(entry["time"])
    if reading != module.frozen:
        lines.append(f'    emma_mock.freeze_clock("{reading}")')
        module.frozen = reading
    name = _name(method, path)
    if entry["status"] is None:
        lines.append("    with pytest.raises(requests.ConnectionError):  # the connection was dropped")
        module.raises = True
        lines.append(f"        {_call(mock, module, entry, 8)}")
        return
    lines.append(f"    {name} = {_call(mock, module, entry, 4)}")
    message = repr(label)
    lines.append(f"    assert {name}.status_code == {entry['status']}, {message}")
    if method == "HEAD":
        return
    body = entry["response_body"]
    if isinstance(body, int):
        module.notes.append(f"Entry {number}'s answer ({body} bytes) was over the journal's limit and not "
                            "recorded: only its status is checked.")
        return
    try:
        value = strict_json.loads(body) if body else None
    except (ValueError, RecursionError):
        value = None
    if value is None and body != b"null":
        lines.append(f"    assert {name}.content == {body!r}, {message}")
    elif value is None or isinstance(value, bool):  # (`true` is what every DELETE answers)
        lines.append(f"    assert {name}.json() is {value!r}, {message}")
    else:
        lines.append(f"    assert {name}.json() == {_literal(module, value, 4)}, {message}")


def _call(mock: Mock, module: _Module, entry: dict[str, Any], indent: int) -> str:
    """`requests.<method>(url, ...)` sending what the entry records."""
    method, path, query = entry["method"], entry["path"], entry["query"]
    target = "/".join(_segment(part) for part in path.split("/"))
    words: list[str] = []
    pairs = parse_qsl(query, keep_blank_values=True)
    if query and urlencode(pairs) == query and len({name for name, _ in pairs}) == len(pairs):
        params = "{" + ", ".join(f"{name!r}: {value!r}" for name, value in pairs) + "}"
    else:
        params = None
        if query:
            target += "?" + quote(query.encode("latin-1", "replace"), safe=_URL_SAFE)
    url = f'f"{{emma_mock.url}}{target}"' if not set(target) & set('"{}\\') else f"emma_mock.url + {target!r}"
    words.append(url)
    if params is not None:
        words.append(f"params={params}")
    body = entry["body"]
    if body:
        try:
            value = strict_json.loads(body)
        except (ValueError, RecursionError):
            value = None
        if value is None:  # not JSON, or JSON's null (which `json=None` would not send)
            words.append(f"data={body!r}")
        else:
            words.append(f"json={_literal(module, value, indent + 4)}")
    account = account_in_path(path)
    who = entry.get("credentials")  # with --auth off, the path's account when it existed (serving/front.py)
    if who == WRONG_KEYS:
        module.wrong_keys = True
        words.append("auth=WRONG_KEYS")
    elif who not in (None, NO_KEYS):
        words.append(f"auth=emma_mock.auth_for({who})")
    elif who == NO_KEYS and not mock.config.auth and account is not None and account not in module.unknown_accounts:
        module.unknown_accounts.add(account)  # sent without keys: the plugin's server answers 401
        _may_fail(module, f"The server ran with --auth off and account {account} was not in its state: the "
                          "plugin's server checks keys, so requests to it are sent without any and answered "
                          "401, not as recorded")
    function = f"requests.{method.lower()}" if method in _METHODS else "requests.request"
    if method not in _METHODS:
        words.insert(0, repr(method))
    flat = f"{function}({', '.join(words)})"
    if len(flat) + 30 <= _WIDTH and "\n" not in flat:
        return flat
    return f"{function}(\n" + "".join(f"{' ' * (indent + 4)}{word},\n" for word in words) + " " * indent + ")"


def _segment(part: str) -> str:
    """One segment of a decoded path as the URL that the server decodes back to it: `.` and `..`
    percent-encoded too, since a client library would drop them (`/a/../b` becomes `/b`)."""
    if part in (".", ".."):
        return "%2E" * len(part)
    return quote(part.encode("utf-8"), safe=_SEGMENT_SAFE)


def _name(method: str, path: str) -> str:
    for name_method, pattern, name in _NAME_PATTERNS:
        if (name_method == method or (method == "HEAD" and name_method == "GET")):
            match = pattern.fullmatch(path)
            if match:
                return name.format(*match.groups())
    return "response"


def _literal(module: _Module, value: Any, indent: int) -> str:
    """`value` (parsed JSON) as Python source starting at column `indent`: a literal laid out one item
    per line when it does not fit, or json.loads("...") when nested too deeply for Python's parser."""
    if strict_json.deeper_than(value, _LITERAL_DEPTH):
        module.needs_json = True
        return f"json.loads({json.dumps(value)!r})"
    return _source(value, indent)


def _source(value: Any, indent: int) -> str:
    flat = repr(value)
    if indent + len(flat) <= _WIDTH or not isinstance(value, (dict, list)) or not value:
        return flat
    inner = " " * (indent + 4)
    if isinstance(value, dict):
        items = [f"{inner}{key!r}: {_source(item, indent + 4)}," for key, item in value.items()]
        return "{\n" + "\n".join(items) + "\n" + " " * indent + "}"
    items = [f"{inner}{_source(item, indent + 4)}," for item in value]
    return "[\n" + "\n".join(items) + "\n" + " " * indent + "]"


def _escaped(text: str) -> str:
    """Text safe inside a comment or a docstring: one line, ASCII, no quote that could end a string."""
    return text.encode("unicode_escape").decode("ascii").replace('"', '\\"')


def _write(mock: Mock, module: _Module, entries: list[dict[str, Any]]) -> str:
    count = "1 API request" if len(entries) == 1 else f"{len(entries)} API requests"
    span = (f"{count}, from {format_date(entries[0]['time'])} to {format_date(entries[-1]['time'])}"
            if entries else "no API request")
    fixtures = Path(mock.config.fixtures)
    top = ['"""A replay of an emma-mock session, exported by GET /__admin/requests/export:', f"{span}.", ""]
    if _resolved(fixtures) != _resolved(DEFAULT_FIXTURE):
        shown = _escaped(str(fixtures))
        top += ["The server served the fixtures " + shown + ": run it with",
                "    pytest --emma-mock-fixtures=" + shown + " " + FILENAME, ""]
    else:
        top += ["Run it with pytest where emma-mock is installed (the plugin serves the shipped demo fixtures).", ""]
    top += ["Each request is sent as recorded, with the mock's clock frozen at its recorded time, and its",
            "status and body are checked; a test that fails names the request whose answer differs.", ""]
    if module.stopped is not None:
        module.notes.append(f"The replay stops early: {module.stopped}.")
    if module.notes:
        top += ["Not replayed as recorded:"] + [f"- {_escaped(note)}" for note in module.notes] + [""]
    else:
        top += ["Everything in the session is replayed.", ""]
    top.append('"""')
    uses_pytest = module.xfail is not None or module.stopped is not None or module.raises
    imports = ((["import json", ""] if module.needs_json else []) + (["import pytest"] if uses_pytest else [])
               + ["import requests", ""])
    if module.wrong_keys:
        imports += ["", f"WRONG_KEYS = {WRONG_KEYS_LITERAL}  # keys of no account, where the session sent such keys"]
    header = top + imports + ["", ""]
    test = [f"@pytest.mark.xfail(reason={module.xfail!r}, strict=False)"] if module.xfail is not None else []
    test += ["def test_session(emma_mock):", '    """The session, request by request."""']
    body = module.lines or ["    pass  # nothing to replay"]
    rest: list[str] = []
    if module.stopped is not None:
        rest = ["", "", f"@pytest.mark.skip(reason={module.stopped!r})",
                "def test_rest_of_session(emma_mock):",
                '    """The requests after the point where the replay stops (see the module\'s docstring)."""']
    return "\n".join(header + test + body + rest) + "\n"


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:
        return path
