"""core.globs: fnmatch's meaning (case-sensitive, `*` crosses `/`), in one pass over the path per piece."""
from __future__ import annotations

import threading
import time
from fnmatch import fnmatchcase

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver.core.globs import glob_matches
from mockserver.testing import MockServer

from helpers import raw_request

# Glob syntax and its edge cases: unclosed and empty classes, `!`, `]` first, ranges (reversed ones too),
# `-` at either end, a backslash, and characters either side of the sets' ranges.
GLOB_ALPHABET = st.sampled_from([*"*?[]!-^\\ab/z0", "\n", "é", "\ud800", "[!", "[]", "a-c", "c-a"])
TEXT_ALPHABET = st.sampled_from([*"ab/z0-]!^\\*?[", "\n", "é", "\ud800", "b", "c", "A"])


GLOBS = st.lists(GLOB_ALPHABET, max_size=12).map("".join)
TEXTS = st.lists(TEXT_ALPHABET, max_size=14).map("".join)


@settings(max_examples=300, deadline=None)
@given(GLOBS, TEXTS)
def test_a_glob_matches_what_fnmatchcase_matches(glob, text):
    assert glob_matches(text, glob) == fnmatchcase(text, glob)


@pytest.mark.slow
@settings(max_examples=5000, deadline=None)
@given(GLOBS, TEXTS)
def test_a_glob_matches_what_fnmatchcase_matches_at_length(glob, text):
    assert glob_matches(text, glob) == fnmatchcase(text, glob)


@pytest.mark.parametrize("text, glob, expected", [
    ("/100/touchpoints", "/100/touchpoints*", True), ("/100/x", "/[0-9][0-9][0-9]/?", True),
    ("/100/x", "/[!0-9]*", False), ("/a]", "/[]]]", False), ("/]", "/[]]", True), ("/-", "/[a-]", True),
    ("/b", "/[c-a]", False), ("/\\", "/[\\]", True), ("/[x", "/[x", True), ("é", "[à-ê]", True),
    ("/" + "a" * 8191, "*" + "a?" * 126 + "b*", False), ("/" + "a" * 300 + "b", "*" + "a?" * 126 + "b*", True)])
def test_examples(text, glob, expected):
    assert glob_matches(text, glob) is expected


def test_a_normal_request_is_answered_within_a_second_while_hostile_globs_meet_long_paths():
    """The attack of issue 17: 100 faults whose globs nearly match everywhere, four clients sending paths
    of 250 KB (a 414 now, before any matching) and of 8 KiB (matched, outside the faults' lock)."""
    with MockServer() as server:
        for n in range(100):
            assert server.session.post(f"{server.url}/__admin/faults", json={
                "path": "*" + ("a?" if n % 2 else "[ab]") * 60 + f"{n}*", "status": 500}).status_code == 200
        stop = threading.Event()
        answers: list[int] = []

        def attack(length: int) -> None:
            while not stop.is_set():
                path = "/" + "a" * length
                answers.append(raw_request(server.url, f"GET {path} HTTP/1.1\r\nHost: x\r\n"
                                                       "Connection: close\r\n\r\n".encode(), timeout=60)[0])

        attackers = [threading.Thread(target=attack, args=(length,), daemon=True)
                     for length in (250_000, 250_000, 8_000, 8_000)]
        for thread in attackers:
            thread.start()
        try:
            time.sleep(0.5)  # (let the attack get going; what is measured is the request below)
            for _ in range(3):
                started = time.monotonic()
                answer = server.session.get(f"{server.url}/100/touchpoints/300", timeout=30)
                assert answer.status_code == 200 and answer.json()["type_name"] == "visited_website"
                assert time.monotonic() - started < 1.0
        finally:
            stop.set()
            for thread in attackers:
                thread.join(timeout=60)
        assert answers and set(answers) <= {404, 414}, set(answers)  # never a 5xx
