"""What the dashboard offers to copy is safe to paste (SPEC §8), checked in a real browser and a real shell.

The builders (mockserver/control/dashboard/builders.js) run in headless Chromium on generated requests
with nasty characters in every part; each curl line they make runs in bash and in sh with `curl`
replaced by a stub that records its arguments (NUL-separated) and its standard input, and those must
be exactly the words meant: nothing else runs, nothing is expanded. Then the attacks as they came:
a method with a quote, sent over a raw socket; keys with `$(...)` from a state upload; a path with
`..`; a state with an id past 2^53 and 1e30.
"""
from __future__ import annotations

import json
import random
import shutil
import subprocess
from urllib.parse import quote

import browser_pages
import pytest
import requests
from browser_pages import LIVE, PASTE_ACTS_ON, eventually, open_newest_entry, poll_now, run_pasted

from helpers import raw_request

server, tab, page, stub = browser_pages.server, browser_pages.tab, browser_pages.page, browser_pages.stub  # fixtures
SHELLS = [shell for shell in ("bash", "sh") if shutil.which(shell)]
NASTY = ["'", '"', "$(touch pwned)", "`touch pwned`", "!", "!!", "\n", "\r", "\0", "\\", "-", "--", "@", " ",
         ";", "|", "&", "*", "?", "[a]", "{a,b}", "~", "#", "%", "%00", "..", "/", "\ufffd", "é", "😀", "\u2028",
         "\t", "$HOME", "${PATH}", "'\\''", "=", ":", "\x7f", "\x1b[31m"]


def _text(rng: random.Random, size: int = 6) -> str:
    parts = []
    for _ in range(rng.randrange(size)):
        kind = rng.random()
        if kind < 0.5:
            parts.append(rng.choice(NASTY))
        elif kind < 0.7:  # bytes that are not UTF-8, as the journal renders them
            parts.append(rng.randbytes(rng.randrange(1, 5)).decode("utf-8", "replace"))
        else:
            parts.append("".join(rng.choice("abcXYZ019-_.~") for _ in range(rng.randrange(1, 4))))
    return "".join(parts)


def _entry(rng: random.Random) -> tuple[dict, dict]:
    """A journal entry as GET /__admin/requests renders it, and the account its path names."""
    account = {"account_id": 100, "public_key": "-" + _text(rng), "private_key": _text(rng)}
    path = "/100/" + "/".join(_text(rng, 3) for _ in range(rng.randrange(1, 4)))
    query = {_text(rng, 3): [_text(rng, 3), _text(rng, 3)] if rng.random() < 0.3 else _text(rng, 3)
             for _ in range(rng.randrange(3))}
    headers = {"Authorization": "***"} if rng.random() < 0.7 else {}
    if rng.random() < 0.6:
        headers["Content-Type"] = _text(rng)
    body = None if rng.random() < 0.2 else _text(rng, 10) if rng.random() < 0.7 else {_text(rng, 3): _text(rng, 3)}
    method = rng.choice(["GET", "POST", "HEAD", "DELETE"]) if rng.random() < 0.4 else "X" + _text(rng, 4)
    return {"id": 1, "method": method, "path": path, "query": query, "headers": headers, "body": body,
            "status": 200, "response_headers": {}, "response_body": None}, account


def _url_part(text: str) -> str:
    return quote(text.encode("utf-8"), safe="-_.!~*'()")  # encodeURIComponent


def _word(text: str) -> bytes:
    return text.replace("\0", "\ufffd").encode("utf-8")  # a shell word cannot hold NUL


def expected(entry: dict, account: dict, origin: str) -> tuple[list[bytes], bytes]:
    """The words a copied curl line must give curl, worked out here from the entry (not from the builder)."""
    # A JavaScript object lists integer-like names first (the journal's query is read as one)
    names = sorted((n for n in entry["query"] if n.isascii() and n.isdigit() and (n == "0" or n[0] != "0")), key=int)
    names += [n for n in entry["query"] if n not in names]
    pairs = [f"{_url_part(name)}={_url_part(one)}" for name in names
             for one in (entry["query"][name] if isinstance(entry["query"][name], list) else [entry["query"][name]])]
    url = origin + "/".join(_url_part(part) for part in entry["path"].split("/")) + ("?" + "&".join(pairs) if pairs else "")
    body = entry["body"]
    if isinstance(body, dict):
        body = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    words = ["curl", "-sS", "-g", "--path-as-is"]
    if entry["method"] == "HEAD" and body is None:
        words.append("-I")
    elif entry["method"] != "GET" or body is not None:
        words += ["-X", entry["method"]]
    if "Authorization" in entry["headers"]:
        words += ["-u", f"{account['public_key']}:{account['private_key']}"]
    if "Content-Type" in entry["headers"]:
        words += ["-H", "Content-Type: " + entry["headers"]["Content-Type"]]
    elif body is not None:
        words += ["-H", "Content-Type:"]
    stdin = b""
    if body is not None and PASTE_ACTS_ON.search(body):
        words += ["--data-binary", "@-"]
        stdin = body.encode("utf-8")
    elif body is not None:
        words += ["--data-raw", body]
    return [_word(w) for w in [*words, "--url", url]][1:], stdin  # the stub records its arguments, not its name


BUILD = """async ([entries, origin]) => {
  const b = await import("/__dashboard/builders.js");
  return entries.map(([entry, account]) => b.entryCurl(entry, origin, account));
}"""


@pytest.mark.parametrize("count", [40, pytest.param(150, marks=pytest.mark.slow)])
def test_every_curl_line_runs_curl_with_exactly_its_words_whatever_the_request_holds(page, server, stub, count):
    """Each line runs in each shell (two processes per line and shell): 40 requests in a normal run, 150 with
    -m slow (the same 40 first)."""
    rng = random.Random(17)
    cases = [_entry(rng) for _ in range(count)]
    lines = page.evaluate(BUILD, [[list(case) for case in cases], server.url])
    for (entry, account), line in zip(cases, lines, strict=True):
        assert not PASTE_ACTS_ON.search(line), line  # whatever the method, header or body held
        for shell in SHELLS:
            assert run_pasted(line, stub, shell) == expected(entry, account, server.url), line


def test_a_quote_in_the_method_cannot_make_the_copied_line_run_a_command(page, server, stub):
    body = b'{"member_id": 9007199254740993, "value": 1e30}\'; touch pwned; echo \''
    raw_request(server.url, b"X'Y /100/touchpoints HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                            b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
    entry = open_newest_entry(page)
    line = entry.locator("pre.curl").get_attribute("data-curl")
    argv, _ = run_pasted(line, stub)  # fails (the stub sees other words, or `pwned` appears) when unquoted
    assert argv[argv.index(b"-X") + 1] == b"X'Y"
    assert argv[argv.index(b"--data-raw") + 1] == body  # not JSON: sent back as it came


def test_a_json_body_is_copied_with_its_numbers_as_sent(page, server, stub):
    requests.post(server.base_url + "/touchpoints/members", auth=server.auth, timeout=5,
                  data=b'{"touchpoints": [{"member_id": 9007199254740993, "touchpoint_type_id": 300, '
                       b'"touchpoint_monetary_value": 1e30, "mailing_id": 1.0}]}')
    entry = open_newest_entry(page)
    argv, _ = run_pasted(entry.locator("pre.curl").get_attribute("data-curl"), stub)
    sent = argv[argv.index(b"--data-raw") + 1]
    assert b"9007199254740993" in sent and b"1e+30" in sent and b"1.0" in sent  # rounded: ...992, 1, 1e+30
    assert b"9007199254740993" in entry.locator("pre.request-body").text_content().encode()


def test_keys_from_a_state_upload_are_quoted_in_the_accounts_curl_line(page, server, stub):
    keys = ("$(touch pwned)`touch pwned`", "x' ; touch pwned ; '")
    server.load({"accounts": [{"account_id": 100, "public_key": keys[0], "private_key": keys[1]}]})
    poll_now(page)
    page.wait_for_selector("#accounts :text('touch pwned')", timeout=LIVE)
    line = page.locator("#accounts code.curl-line").first.get_attribute("data-curl")
    page.click("#accounts button")
    assert page.evaluate("navigator.clipboard.readText()") == line
    for shell in SHELLS:
        argv, _ = run_pasted(line, stub, shell)
        assert argv == [b"-sS", b"-g", b"--path-as-is", b"-u", f"{keys[0]}:{keys[1]}".encode(),
                        b"--url", f"{server.url}/100/touchpoints".encode()]


def test_a_path_with_dot_dot_is_replayed_to_the_same_path(page, server):
    path = "/100/members/../touchpoints/./300"
    status, _, _ = raw_request(server.url, f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                                           .encode())
    assert server.requests()[0]["path"] == path
    entry = open_newest_entry(page)
    line = entry.locator("pre.curl").get_attribute("data-curl")
    replay = subprocess.run(["bash", "-c", line], capture_output=True, timeout=10)
    assert replay.returncode == 0, replay.stderr
    assert eventually(lambda: len(server.requests()) == 2)
    assert [e["path"] for e in server.requests()] == [path, path]  # curl alone would ask for /100/touchpoints/300
    assert server.requests()[1]["status"] == status


def test_try_it_quotes_what_is_typed_into_it(page, tab, server, stub):
    tab.allowed_errors = ("status of 400",)  # the body is not JSON
    page.select_option("#try-op", index=next(i for i, text in enumerate(page.locator("#try-op option").all_text_contents())
                                             if text.startswith("POST /{account_id}/touchpoints — ")))
    body = "@/etc/passwd'$(touch pwned)"
    page.fill("#try-body", body)
    page.click("#try-form button[type=submit]")
    page.wait_for_selector("#try-status:text('400')", timeout=LIVE)
    argv, _ = run_pasted(page.text_content("#try-curl"), stub)
    assert argv[argv.index(b"--data-raw") + 1] == body.encode()  # --data-binary would send /etc/passwd


def test_download_state_saves_the_servers_bytes(page, server, tmp_path):
    big = 2**53 + 1
    server.load({"accounts": [{"account_id": 100, "public_key": "p", "private_key": "k"}],
                 "members": [{"account_id": 100, "member_id": big - 1, "email": "a@example.com"},
                             {"account_id": 100, "member_id": big, "email": "b@example.com"}],
                 "touchpoint_types": [{"account_id": 100, "touchpoint_type_id": 1, "type_name": "t",
                                       "display_name": "T"}],
                 "touchpoints": [{"account_id": 100, "touchpoint_id": 1, "member_id": big, "touchpoint_type_id": 1,
                                  "touchpoint_monetary_value": 1e30}]})
    poll_now(page)
    page.wait_for_selector(f"#members :text('{big}')", timeout=LIVE)  # shown exact, not ...992
    with page.expect_download() as download:
        page.click("#download-state")
    saved = tmp_path / "state.json"
    download.value.save_as(saved)
    sent = requests.get(server.url + "/__admin/state", timeout=5).content
    assert saved.read_bytes() == sent
    assert requests.put(server.url + "/__admin/state", data=saved.read_bytes(), timeout=5).status_code == 200
    assert len(server.state()["members"]) == 2


def test_the_builders_are_served_beside_the_page_and_touch_no_page(server):
    """builders.js is package data served under the page's policy, and holds pure functions only."""
    answer = requests.get(server.url + "/__dashboard/builders.js", timeout=5)
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/javascript")
    assert "script-src 'self'" in answer.headers["Content-Security-Policy"]
    assert "document." not in answer.text and "fetch(" not in answer.text
