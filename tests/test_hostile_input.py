"""Hostile input: a corpus of nasty requests; zero 5xx, and every answer is JSON.

Most cases go through the Flask test client (fast, thousands of them). The
ones a test client cannot send (invalid UTF-8 in the request line, overlong
headers, chunked or malformed framing, a non-HTTP byte stream) go over a real
socket to a MockServer on 127.0.0.1, where waitress parses the request.

Every answer must be: status below 500, `application/json`, a body that is
strict JSON (no NaN/Infinity), and for errors `{"error": "<non-empty string>"}`.
"""
from __future__ import annotations

import base64
import json
import time

import pytest

from mockserver import Config, create_app
from mockserver.testing import MockServer

from helpers import DEMO_AUTH, assert_json_answer, raw_request

MIB = 1024 * 1024
AUTH = "Basic " + base64.b64encode(":".join(DEMO_AUTH).encode()).decode()


def check(response, what: str):
    """The invariant of every answer; returns the parsed body (None for HEAD)."""
    head = response.request.method == "HEAD" if hasattr(response, "request") else False
    payload = assert_json_answer(response.status_code, response.headers.get("Content-Type"), response.get_data(),
                                 what, head=head)
    if response.status_code == 405:
        assert response.headers.get("Allow"), what
    if response.status_code == 401 and not what.startswith("admin"):
        assert response.headers.get("WWW-Authenticate") == 'Basic realm="Emma API"', what
    return payload


def deep(depth: int, opener: str = "[", closer: str = "]") -> str:
    return opener * depth + closer * depth


def deep_object(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


BIG_DIGITS = "9" * 5001  # 10**5000 and beyond: more digits than Python converts by default
NEAR_LIMIT_DIGITS = "1" + "0" * 4000

BODIES: list[bytes] = [
    b"", b"   ", b"\n", b"{", b"}", b"[", b'{"a":', b'{"a" 1}', b"{'type_name': 'x'}", b"nul", b"tru",
    b"null", b"true", b"false", b"0", b"-1", b"1e400", b'"text"', b"[]", b"[{}]", b"{}", b"[[[]]]",
    b"NaN", b"Infinity", b"-Infinity", b'{"type_name": NaN, "display_name": "x"}',
    b'{"type_name": "x", "display_name": Infinity}', b'{"touchpoint_monetary_value": -Infinity}',
    b'{"touchpoints": [{"member_id": 444, "touchpoint_type_id": 300, "touchpoint_monetary_value": NaN}]}',
    b'{"touchpoints": [{"member_id": 444, "touchpoint_type_id": 300, "touchpoint_monetary_value": 1e400}]}',
    b'{"touchpoints": [{"member_id": 444, "touchpoint_type_id": 300, "touchpoint_monetary_value": 1' + b"0" * 400
    + b"}]}",
    b'{"touchpoints": [{"member_id": ' + BIG_DIGITS.encode() + b', "touchpoint_type_id": 300}]}',
    b'{"touchpoints": [{"member_id": ' + NEAR_LIMIT_DIGITS.encode() + b', "touchpoint_type_id": 300}]}',
    b'{"touchpoints": [{"member_id": 444, "touchpoint_type_id": 300, "mailing_id": ' + NEAR_LIMIT_DIGITS.encode()
    + b"}]}",
    b'{"touchpoints": [{"member_id": -' + BIG_DIGITS.encode() + b', "touchpoint_type_id": 300}]}',
    b'{"touchpoints": [{"member_id": 1.5, "touchpoint_type_id": 300}]}',
    b'{"touchpoints": [{"member_id": 444.0, "touchpoint_type_id": 300}]}',
    b'{"touchpoints": [{"member_id": 1e2, "touchpoint_type_id": 300}]}',
    b'{"touchpoints": [{"member_id": 444, "touchpoint_type_id": ' + BIG_DIGITS.encode() + b"}]}",
    b'{"type_name": ' + BIG_DIGITS.encode() + b', "display_name": "x"}',
    b'{"email": ' + NEAR_LIMIT_DIGITS.encode() + b"}",
    deep(100_000).encode(), deep_object(50_000).encode(), deep(5_000, "{\"a\":[", "]}").encode()[:60_000],
    b'{"touchpoints": [{"member_id": 444, "touchpoint_type_id": 300, "attributes": ' + deep_object(2_000).encode()
    + b"}]}",
    b'{"touchpoints": [{"member_id": 444, "touchpoint_type_id": 300, "attributes": ' + deep_object(500).encode()
    + b"}]}",
    b'{"email": "deep@example.com", "fields": ' + deep_object(3_000).encode() + b"}",
    b'{"type_name": "\xff\xfe", "display_name": "x"}', b"\xc3\x28", b'"\xc0\xaf"', b'"\xed\xa0\x80"',
    b"\xff" * 64, b"\xfe\xff\x00{\x00}", b'\xef\xbb\xbf{"type_name": "bom", "display_name": "BOM"}',
    '{"type_name": "ünïcødé ✓ 𝄞", "display_name": "x"}'.encode(), '{"type_name": "x"}'.encode("utf-16"),
    b'{"type_name": "\\ud800", "display_name": "lone surrogate"}',
    b'{"email": "\\udfff@example.com"}',
    b'{"type_name": "a\x00b", "display_name": "x"}', b'{"type_name": "a\\u0000b", "display_name": "nul"}',
    b"\x00" * 100, b'{"email": "x\\u0000@example.com"}', b'{"touchpoints": [{"member_id": 444, "type_name": "\\u0000"}]}',
    b'[{"type_name": "a", "display_name": "b"}]', b'{"touchpoints": {"member_id": 444}}',
    b'{"touchpoints": [[444, 300]]}', b'{"touchpoints": [444]}', b'{"touchpoints": "444"}',
    b'{"touchpoints": null}', b'{"touchpoints": []}', b'{"touchpoints": [' + b"{}," * 10_000 + b"{}]}",
    b'{"touchpoints": [{"member_id": [444], "touchpoint_type_id": {"id": 300}}]}',
    b'{"touchpoints": [{"member_id": 444, "touchpoint_type_id": 300, "attributes": [1, 2]}]}',
    b'{"touchpoints": [{"member_id": 444, "touchpoint_type_id": 300, "touchpoint_timestamp": 1700000000}]}',
    b'{"touchpoints": [{"member_id": 444, "touchpoint_type_id": 300, "touchpoint_timestamp": "99999-01-01T00:00:00"}]}',
    b'{"touchpoints": [{"member_id": 444, "touchpoint_type_id": 300, "touchpoint_timestamp": "0000-01-01T00:00:00"}]}',
    b'{"touchpoints": [{"member_id": 444, "touchpoint_type_id": 300, "touchpoint_timestamp": "0001-01-01T00:00:00+23:59"}]}',
    b'{"touchpoints": [{"member_id": 444, "touchpoint_type_id": 300, "touchpoint_timestamp": "9999-12-31T23:59:59-23:59"}]}',
    b'{"touchpoints": [{"member_id": 444, "touchpoint_type_id": 300, "touchpoint_timestamp": "2025-01-01T00:00:00.'
    + b"9" * 10_000 + b'Z"}]}',
    b'{"touchpoints": [{"member_id": 444, "touchpoint_type_id": 300, "touchpoint_timestamp": "2025-01-01T00:00:00+99:99"}]}',
    b'{"type_name": {"a": 1}, "display_name": ["x"]}', b'{"type_name": true, "display_name": false}',
    b'{"type_name": "dup", "type_name": "dup2", "display_name": "x"}',
    b'{"type_name": "' + b"x" * 2_000_000 + b'", "display_name": "big"}',
    b"{" + b",".join(b'"k%d": %d' % (i, i) for i in range(50_000)) + b"}",
    b'{"email": "a@b.co", "fields": [1, 2]}', b'{"email": "a@b.co", "fields": "x"}', b'{"email": ["a@b.co"]}',
    b'{"email": "' + b"a" * 100_000 + b'@example.com"}', b'{"email": "@"}', b'{"email": "a@b.co\\n"}',
    b'{"type_name": "x", "display_name": "y"}' + b" " * 1000 + b"trailing",
    b'{"type_name": "x", "display_name": "y"}{"type_name": "x"}',
]

CONTENT_TYPES = [None, "application/json", "text/plain", "application/x-www-form-urlencoded",
                 "multipart/form-data; boundary=zzz", "application/json; charset=latin-1", "\x00garbage/\xff"]

WRITE_ENDPOINTS = [("POST", "/100/touchpoints"), ("PUT", "/100/touchpoints/300"), ("POST", "/100/touchpoints/members"),
                   ("POST", "/100/members/add")]
LIST_ENDPOINTS = ["/100/touchpoints", "/100/members", "/100/touchpoints/members/444"]


@pytest.fixture
def fresh():
    """A new app for each use: one hostile write must not hide the next one's path."""
    def make():
        client = create_app(Config()).test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = AUTH
        return client
    return make


def test_hostile_bodies_on_every_write_endpoint(fresh):
    tried = 0
    for method, path in WRITE_ENDPOINTS:
        client = fresh()
        for index, body in enumerate(BODIES):
            content_type = CONTENT_TYPES[index % len(CONTENT_TYPES)]
            headers = {"Content-Type": content_type} if content_type else {}
            response = client.open(path, method=method, data=body, headers=headers)
            check(response, f"{method} {path} body #{index} {body[:60]!r}")
            tried += 1
        for content_type in CONTENT_TYPES:  # a good body is read whatever the content type says
            headers = {"Content-Type": content_type} if content_type else {}
            response = client.open(path, method=method, data=b"[]", headers=headers)
            assert response.status_code == 400, (content_type, response.get_data())
            check(response, f"{method} {path} {content_type!r}")
            tried += 1
    print(f"hostile bodies: {tried} requests")


@pytest.mark.parametrize("content_type", CONTENT_TYPES)
def test_a_good_body_is_json_whatever_the_content_type(fresh, content_type):
    client = fresh()
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post("/100/touchpoints", data=b'{"type_name": "ct", "display_name": "CT"}', headers=headers)
    assert response.status_code == 200, response.get_data()


def test_numbers_and_strings_that_do_get_stored_come_back_as_json(fresh):
    """Bodies the API accepts (huge ints, NUL in strings) still render everywhere (lone surrogates: a 400,
    see test_attacks_paths_and_input.py)."""
    client = fresh()
    accepted = [
        ("/100/touchpoints/members", b'{"touchpoints": [{"member_id": 444, "touchpoint_type_id": 300, "mailing_id": '
         + NEAR_LIMIT_DIGITS.encode() + b', "attributes": {"n": -' + NEAR_LIMIT_DIGITS.encode()
         + b', "s": "\\u0000\\ud83d\\ude00"}}]}'),
        ("/100/touchpoints", b'{"type_name": "a\\u0000b", "display_name": "\\ud83d\\ude00"}'),
        ("/100/members/add", b'{"email": "nul\\u0000x@example.com", "fields": {"\\u0000": "\\ud83d\\ude00"}}'),
    ]
    for path, body in accepted:
        response = client.post(path, data=body)
        assert response.status_code == 200, response.get_data()
        check(response, body[:40])
    for path in ("/100/touchpoints", "/100/members", "/100/touchpoints/members/444", "/__admin/state",
                 "/__admin/requests"):
        check(client.get(path), path)


@pytest.mark.parametrize("size", [10 * MIB + 1, 10 * MIB + 1000, 64 * MIB])
def test_bodies_over_10_mib_are_413_everywhere(fresh, size):
    client = fresh()
    body = b" " * size
    for method, path in WRITE_ENDPOINTS:
        response = client.open(path, method=method, data=body)
        assert response.status_code == 413, (path, response.status_code)
        check(response, f"{method} {path} {size}")
    assert client.get("/100/touchpoints").status_code == 200
    journal = check(client.get("/__admin/requests"), "journal")
    assert [entry["status"] for entry in journal[-len(WRITE_ENDPOINTS) - 1:-1]] == [413] * len(WRITE_ENDPOINTS)


def test_a_body_of_exactly_10_mib_is_read(fresh):
    client = fresh()
    payload = b'{"type_name": "big", "display_name": "Big"}'
    body = payload + b" " * (10 * MIB - len(payload))
    assert len(body) == 10 * MIB
    response = client.post("/100/touchpoints", data=body)
    assert response.status_code == 200, response.get_data()[:200]


PAGING = ["start=-1", "end=-1", "end=1e99", "start=1e99", "start=99999999999999999999", "end=99999999999999999999",
          "start=" + "9" * 5000, "end=" + "9" * 5000, "start=0x10", "start=%EF%BC%91", "start=%00", "start=%FF",
          "start=NaN", "start=inf", "start=%201", "start=1.0", "start=+1", "start=", "end=", "start=1&start=2",
          "start=5&end=4", "count=true&start=-1", "count=", "count=%FF", "count=TRUE", "count=2", "start=0&end=0",
          "start=18446744073709551616", "end=9223372036854775808", "start=999999999999999999",
          "&&&", "=", "start", "%", "%%%", "a=%zz", "start=1;end=2", "start[]=1", "x=" + "y" * 8_000]


def test_absurd_paging_values(fresh):
    client = fresh()
    tried = 0
    for path in LIST_ENDPOINTS:
        for query in PAGING:
            response = client.get(f"{path}?{query}")
            check(response, f"{path}?{query[:50]}")
            assert response.status_code in (200, 400), (path, query[:50], response.status_code)
            tried += 1
    print(f"absurd paging: {tried} requests")


IDS = ["abc", "-1", "0", "9" * 30, "9" * 5000, "1e3", "0x10", "%00", "%FF", "%EF%BC%91%EF%BC%92", "300abc", "300.0",
       "300%20", "%20300", "300/extra", "..", "../..", "%2e%2e", "300;x", "300?", "300#", "null", "true", "[]",
       "%7B%7D", "ğ", "\u0661\u0662", "-0", "+300"]

ID_PATHS = ["/100/touchpoints/{}", "/100/touchpoints/members/{}", "/100/touchpoints/members/touchpoints/{}",
            "/100/members/{}", "/100/members/email/{}", "/{}/touchpoints", "/{}/members", "/{}/touchpoints/members/444",
            "/{}", "/100/{}"]


def test_non_numeric_and_absurd_ids_in_every_path(fresh):
    client = fresh()
    bare = create_app(Config()).test_client()
    tried = 0
    for template in ID_PATHS:
        for value in IDS:
            path = template.format(value)
            for method in ("GET", "PUT", "DELETE", "POST"):
                response = client.open(path, method=method, data=b'{"type_name": "i", "display_name": "d"}')
                check(response, f"{method} {path[:80]}")
                tried += 1
            check(bare.get(path), f"anonymous GET {path[:80]}")
            tried += 1
    for path in ("//100//touchpoints", "/100/touchpoints//300", "/100/./touchpoints", "/100/touchpoints/../members",
                 "/" + "a/" * 5000, "/100/" + "x" * 100_000, "/__admin/../100/touchpoints", "/100/touchpoints/%2F300",
                 "/100%2Ftouchpoints", "/\x00", "/100/touchpoints\x00", "/100/members/email/" + "a" * 100_000):
        check(client.get(path), f"GET {path[:60]!r}")
        tried += 1
    print(f"absurd ids and paths: {tried} requests")


def test_wrong_and_odd_verbs(fresh):
    client = fresh()
    tried = 0
    paths = ["/100/touchpoints", "/100/touchpoints/300", "/100/touchpoints/members", "/100/touchpoints/members/444",
             "/100/touchpoints/members/touchpoints/1", "/100/members", "/100/members/add", "/100/members/444",
             "/100/members/email/ann.smith@example.com", "/nope", "/100/nope", "/__admin/health", "/__admin/state",
             "/__admin/requests", "/__admin/faults", "/__admin/clock", "/__admin/rate-limit", "/__admin/reset"]
    for path in paths:
        for method in ("PATCH", "OPTIONS", "TRACE", "HEAD", "FOO", "PROPFIND", "CONNECT", "get"):
            response = client.open(path, method=method)
            check(response, f"{method} {path}")
            tried += 1
    print(f"odd verbs: {tried} requests")


AUTH_HEADERS = ["Basic", "Basic ", "Basic !!!", "Basic ====", "Basic " + base64.b64encode(b"nocolon").decode(),
                "Basic " + base64.b64encode(b"\xff\xfe:\xff").decode(), "Basic " + base64.b64encode(b":").decode(),
                "Basic " + base64.b64encode(b"demo-public-key:").decode(),
                "Basic " + base64.b64encode(b":demo-private-key").decode(),
                "Basic " + base64.b64encode(b"a" * 100_000 + b":" + b"b" * 100_000).decode(),
                "Basic " + base64.b64encode("démo:clé\x00".encode()).decode(), "Bearer token", "Digest a=b",
                "basic " + base64.b64encode(b"demo-public-key:demo-private-key").decode(),
                "Basic " + base64.b64encode(b"demo-public-key:demo-private-key\x00").decode(),
                "Basic " + base64.b64encode(b"demo-public-key:demo-private-key").decode() + "garbage",
                "\x00", "x" * 100_000]


def test_hostile_authorization_headers(fresh):
    client = create_app(Config()).test_client()
    tried = 0
    for header in AUTH_HEADERS:
        for path in ("/100/touchpoints", "/101/members", "/999/touchpoints/members/444"):
            response = client.get(path, headers={"Authorization": header})
            check(response, f"auth {header[:40]!r} {path}")
            assert response.status_code in (200, 401, 403), (header[:40], response.status_code)
            tried += 1
    print(f"hostile auth headers: {tried} requests")


ADMIN_BODIES = {
    ("PUT", "/__admin/state"): [b'{"accounts": "x"}', b'{"accounts": [{"account_id": ' + BIG_DIGITS.encode() + b"}]}",
                                b'{"members": [{"account_id": 1e400}]}', b'{"unknown": []}',
                                b'{"touchpoints": [{"touchpoint_id": -1}]}',
                                b'{"accounts": [{"account_id": 1, "public_key": "k", "private_key": "p", '
                                b'"name": "\\ud800"}], "touchpoint_types": [{"account_id": 1, '
                                b'"touchpoint_type_id": 1, "type_name": "t", "display_name": "d", '
                                b'"created_at": "9999-12-31T23:59:59-23:59"}]}'],
    ("POST", "/__admin/faults"): [b'{"status": 999}', b'{"status": 99}', b'{"status": "x"}', b'{"status": true}',
                                  b'{"status": ' + BIG_DIGITS.encode() + b"}", b'{"delay_ms": -1}',
                                  b'{"delay_ms": 1e400}', b'{"delay_ms": [5, 1]}', b'{"delay_ms": [1]}',
                                  b'{"delay_ms": 1e300}', b'{"probability": 2, "status": 404}',
                                  b'{"probability": NaN, "status": 404}', b'{"times": -1, "status": 404}',
                                  b'{"times": 0, "status": 404}', b'{"times": 1.5, "status": 404}',
                                  b'{"path": "[", "status": 404, "times": 1}', b'{"seed": {"a": 1}, "status": 404}',
                                  b'{"action": "explode"}', b'{"method": 5, "status": 404}',
                                  b'{"status": 418, "body": ' + deep_object(3_000).encode() + b"}",
                                  b'{"status": 404, "times": 1, "path": "' + b"*a" * 2_000 + b'b"}',
                                  b'{"status": 404, "unknown": 1}'],
    ("PUT", "/__admin/clock"): [b'{"now": 5}', b'{"now": "9999-12-31T23:59:59Z"}', b'{"advance_seconds": 1e10}',
                                b'{"advance_seconds": 10}', b'{"advance_seconds": 1e400}',
                                b'{"advance_seconds": -5}', b'{"advance_seconds": "5"}', b'{"now": "x", "advance_seconds": 1}',
                                b'{"now": "0001-01-01T00:00:00Z"}', b'{"now": "0001-01-01T00:00:00+01:00"}',
                                b'{"advance_seconds": ' + BIG_DIGITS.encode() + b"}"],
    ("PUT", "/__admin/rate-limit"): [b'{"requests": 0, "per_seconds": 1}', b'{"requests": 1e400, "per_seconds": 1}',
                                     b'{"requests": ' + NEAR_LIMIT_DIGITS.encode() + b', "per_seconds": 1}',
                                     b'{"requests": 10, "per_seconds": 1e-300}', b'{"requests": 10, "per_seconds": 0}',
                                     b'{"requests": 10, "per_seconds": NaN}', b'{"requests": true, "per_seconds": 1}'],
}


def test_hostile_control_api_input():
    app = create_app(Config())
    client = app.test_client()
    tried = 0
    for (method, path), specific in ADMIN_BODIES.items():
        for body in [*specific, *BODIES[:40]]:
            started = time.monotonic()
            response = client.open(path, method=method, data=body)
            check(response, f"admin {method} {path} {body[:60]!r}")
            tried += 1
            # whatever was accepted must not break the API: faults cleared, clock and rate limit back
            api = client.get("/100/touchpoints", headers={"Authorization": AUTH})
            check(api, f"API after admin {method} {path} {body[:60]!r}")
            tried += 1
            assert time.monotonic() - started < 10, f"{path} {body[:60]!r} took too long"
            for cleanup in ("/__admin/faults", "/__admin/clock", "/__admin/rate-limit"):
                client.delete(cleanup)
    for path in ("/__admin/requests?status=abc&path=[&method=%FF", "/__admin/requests?path=" + "*a" * 2000 + "b",
                 "/__admin/requests?count=true", "/__admin/faults/abc", "/__admin/faults/" + "9" * 5000,
                 "/__admin/nope", "/__admin", "/__admin/", "/__admin/state?x=%FF"):
        check(client.get(path), f"admin GET {path[:50]}")
        check(client.delete(path), f"admin DELETE {path[:50]}")
        tried += 2
    print(f"hostile control API input: {tried} requests")


def test_the_clock_cannot_be_pushed_past_year_9999(fresh):
    client = fresh()
    assert client.put("/__admin/clock", json={"now": "9999-12-31T23:59:50Z"}).status_code == 200
    response = client.put("/__admin/clock", json={"advance_seconds": 3600})
    assert response.status_code == 400, response.get_data()
    check(response, "advance past 9999")
    assert client.get("/__admin/clock").json["now"] == "@D:9999-12-31T23:59:50"  # nothing changed
    response = client.post("/100/touchpoints", json={"type_name": "late", "display_name": "Late"})
    assert response.json["created_at"] == "@D:9999-12-31T23:59:50"


def test_an_account_id_of_thousands_of_digits_is_not_a_500(fresh):
    client = fresh()
    for digits in (4299, 4300, 4301, 5000, 8_000):  # (a longer path is a 414, SPEC §1)
        for path in (f"/{'9' * digits}/touchpoints", f"/{'9' * digits}/members/444"):
            response = client.get(path)
            check(response, f"{digits}-digit account")
            assert response.status_code in (401, 403, 404)
            response = create_app(Config(auth=False)).test_client().get(path)
            check(response, f"{digits}-digit account, auth off")
            assert response.status_code == 404


# --- nesting at the cap and near the interpreter's recursion limit, on a real server --------------

REQUEST_DEPTH = 512  # API bodies may nest this deep; deeper is 400 "nested too deeply"
DOCUMENT_DEPTH = 528  # a whole state (PUT /__admin/state, fixtures, db file) holds the same records a bit deeper


# Each side of both caps, and across the interpreter's recursion limit (1,000 frames: json.loads
# gives up somewhere past 900, depending on the stack it is called from) to far beyond it.
AT_THE_CAPS = [511, 512, 513, 527, 528, 529]
NEAR_THE_LIMIT = [900, 950, 999, 1000, 1001, 1009]
# every depth at the caps; near the limit every 6th and the sampled ones, and the steps between them
SWEEP = sorted({*range(508, 516), *range(524, 532), *range(900, 1010, 6), *NEAR_THE_LIMIT, 930, 970, 980, 990, 995})


@pytest.mark.parametrize("depths", [
    pytest.param([*AT_THE_CAPS, *NEAR_THE_LIMIT, 5_000], id="sampled"),
    pytest.param([*SWEEP, 5_000], id="sweep", marks=pytest.mark.slow),
])
@pytest.mark.parametrize("db", [False, True], ids=["memory", "db"])
def test_nesting_at_the_cap_and_near_the_recursion_limit_never_breaks_a_later_read(tmp_path, db, depths):
    """Depths around the caps (512 levels for a body, 528 for a state) and past the recursion limit.

    A body the API accepts must be storable and readable back from everywhere
    (lists, state, journal, the db file after a restart), and one it refuses
    must not poison the journal or the file. The server is a subprocess, so
    this process may raise its own recursion limit to read the answers.
    The normal run samples the depths that decide; the sweep (`slow`) tries them all.
    """
    import sys

    import requests

    from helpers import CLIServer

    args = ("--db", str(tmp_path / "state.json")) if db else ()
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(20_000)
    tried = accepted = 0
    try:
        with CLIServer(*args) as server, requests.Session() as session:
            session.auth = DEMO_AUTH
            for depth in depths:
                for path, body in (
                        ("/100/touchpoints/members", '{"touchpoints": [{"member_id": 444, "touchpoint_type_id": 300, '
                                                     f'"attributes": {deep_object(depth - 3)}}}]}}'),
                        ("/100/members/add", f'{{"email": "deep{depth}@example.com", "fields": {deep_object(depth - 1)}}}'),
                        ("/__admin/state", None),
                        ("/100/touchpoints", deep(depth))):
                    if body is None:  # the state upload: the current state with one deeper member
                        state = session.get(server.url + "/__admin/state").json()
                        state["members"].append({"account_id": 100,
                                                 "member_id": max(m["member_id"] for m in state["members"]) + 1000,
                                                 "email": f"put{depth}@example.com",
                                                 "fields": json.loads(deep_object(depth - 3))})
                        response = session.put(server.url + path, data=json.dumps(state), timeout=60)
                    else:
                        response = session.post(server.url + path, data=body, timeout=60)
                    assert_json_answer(response.status_code, response.headers.get("Content-Type"), response.content,
                                       f"{path} at depth {depth}")
                    cap = DOCUMENT_DEPTH if path == "/__admin/state" else REQUEST_DEPTH
                    assert response.status_code == (200 if depth <= cap and path != "/100/touchpoints" else 400), \
                        (path, depth, response.status_code, response.text[:300])
                    accepted += response.status_code == 200
                    tried += 1
                for path in ("/__admin/state", "/100/touchpoints/members/444", "/100/members"):
                    response = session.get(server.url + path, timeout=60)
                    assert_json_answer(response.status_code, response.headers.get("Content-Type"), response.content,
                                       f"GET {path} after depth {depth}")
                    tried += 1
            # The journal only grows here (well under its 1,000 entries), so one read at the end sees every
            # entry each depth left; reading it after each depth made the test quadratic in its size.
            response = session.get(server.url + "/__admin/requests", timeout=60)
            assert_json_answer(response.status_code, response.headers.get("Content-Type"), response.content,
                               "GET /__admin/requests after every depth")
            assert len(response.json()) == 5 * len(depths)  # three writes and two reads of the API per depth
            tried += 1
            state = session.get(server.url + "/__admin/state").json()
        if db:
            with CLIServer(*args) as again:  # the file with everything accepted loads again
                assert requests.get(again.url + "/__admin/state", timeout=60).json() == state
    finally:
        sys.setrecursionlimit(limit)
    assert accepted == 2 * len([d for d in depths if d <= REQUEST_DEPTH]) + len([d for d in depths
                                                                                 if d <= DOCUMENT_DEPTH])
    print(f"nesting sweep ({'db' if db else 'memory'}): {tried} requests")


# --- over a real socket: what only waitress sees -------------------------------------------------

@pytest.fixture(scope="module")
def live():
    with MockServer(port=0) as server:
        yield server


def _req(line: bytes, headers: list[bytes] = (), body: bytes = b"", auth: bool = True) -> bytes:
    head = [line, b"Host: 127.0.0.1", b"Connection: close"]
    if auth:
        head.append(b"Authorization: " + AUTH.encode())
    head += list(headers)
    return b"\r\n".join(head) + b"\r\n\r\n" + body


def _raw_cases() -> list[tuple[str, bytes]]:
    body = b'{"type_name": "chunked", "display_name": "Chunked"}'
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    big_chunk = b" " * (10 * MIB + 1)
    return [
        ("invalid utf-8 in path", _req(b"GET /100/touchpoints/\xff\xfe HTTP/1.1")),
        ("invalid utf-8 in account", _req(b"GET /\xc3\x28/touchpoints HTTP/1.1")),
        ("percent-encoded invalid utf-8", _req(b"GET /100/members/email/%FF%FE HTTP/1.1")),
        ("invalid utf-8 in query", _req(b"GET /100/touchpoints?start=\xff HTTP/1.1")),
        ("NUL in path", _req(b"GET /100/touch\x00points HTTP/1.1")),
        ("invalid utf-8 in header", _req(b"GET /100/touchpoints HTTP/1.1", [b"X-Thing: \xff\xfe\x00"])),
        ("invalid utf-8 in credentials", _req(b"GET /100/touchpoints HTTP/1.1",
                                              [b"Authorization: Basic " + base64.b64encode(b"\xff:\xfe")], auth=False)),
        ("overlong header", _req(b"GET /100/touchpoints HTTP/1.1", [b"X-Long: " + b"a" * 300_000])),
        ("overlong request line", _req(b"GET /100/touchpoints?" + b"a" * 300_000 + b" HTTP/1.1")),
        ("many headers", _req(b"GET /100/touchpoints HTTP/1.1", [b"X-H%d: v" % i for i in range(30_000)])),
        ("header without colon", _req(b"GET /100/touchpoints HTTP/1.1", [b"NoColonHere"])),
        ("obsolete line folding", _req(b"GET /100/touchpoints HTTP/1.1", [b"X-A: a", b" folded"])),
        ("chunked body", _req(b"POST /100/touchpoints HTTP/1.1", [b"Transfer-Encoding: chunked"], chunked)),
        ("chunked body in pieces", _req(b"POST /100/touchpoints/members HTTP/1.1", [b"Transfer-Encoding: chunked"],
                                        b"5\r\n{\"tou\r\n1\r\nc\r\n3\r\nhpo\r\n0\r\n\r\n")),
        ("chunked body over 10 MiB", _req(b"POST /100/touchpoints HTTP/1.1", [b"Transfer-Encoding: chunked"],
                                          b"%x\r\n%s\r\n0\r\n\r\n" % (len(big_chunk), big_chunk))),
        ("bad chunk size", _req(b"POST /100/touchpoints HTTP/1.1", [b"Transfer-Encoding: chunked"],
                                b"zz\r\nabc\r\n0\r\n\r\n")),
        ("unknown transfer coding", _req(b"POST /100/touchpoints HTTP/1.1", [b"Transfer-Encoding: gzip"], b"x")),
        ("content-length and chunked", _req(b"POST /100/touchpoints HTTP/1.1",
                                            [b"Transfer-Encoding: chunked", b"Content-Length: 3"], chunked)),
        ("non-numeric content-length", _req(b"POST /100/touchpoints HTTP/1.1", [b"Content-Length: abc"])),
        ("negative content-length", _req(b"POST /100/touchpoints HTTP/1.1", [b"Content-Length: -5"])),
        ("two content-lengths", _req(b"POST /100/touchpoints HTTP/1.1", [b"Content-Length: 2", b"Content-Length: 3"],
                                     b"{}")),
        ("body over 10 MiB", _req(b"POST /100/touchpoints/members HTTP/1.1", [b"Content-Length: %d" % (10 * MIB + 1)],
                                  b"{" * (10 * MIB + 1))),
        ("http/1.0 without host", b"GET /__admin/health HTTP/1.0\r\n\r\n"),
        ("absolute-form target", _req(b"GET http://127.0.0.1/100/touchpoints HTTP/1.1")),
        ("asterisk target", _req(b"OPTIONS * HTTP/1.1")),
        ("no version", _req(b"GET /100/touchpoints")),
        ("unknown version", _req(b"GET /100/touchpoints HTTP/9.9")),
        ("lower-case method", _req(b"get /100/touchpoints HTTP/1.1")),
        ("odd method", _req(b"BREW /100/touchpoints HTTP/1.1")),
        ("expect 100-continue", _req(b"POST /100/touchpoints HTTP/1.1",
                                     [b"Expect: 100-continue", b"Content-Length: 2"], b"{}")),
        ("garbage request line", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 50 + b"\r\n\r\n"),
    ]


RAW_CASES = _raw_cases()


@pytest.mark.parametrize("name, payload", RAW_CASES, ids=[name for name, _ in RAW_CASES])
def test_over_the_socket(live, name, payload):
    status, headers, body = raw_request(live.url, payload)
    if status == 100:  # "Expect: 100-continue": the final answer follows
        status_line, _, rest = body.partition(b"\r\n")
        status = int(status_line.split()[1])
        head, _, body = rest.partition(b"\r\n\r\n")
        headers = {line.split(b":", 1)[0].decode().lower(): line.split(b":", 1)[1].decode().strip()
                   for line in head.split(b"\r\n") if b":" in line}
        body = body[:int(headers.get("content-length", len(body)))]
    if name == "unknown transfer coding":
        # RFC 9112 §6.1: a transfer coding the server does not know gets 501; no request may get a 500.
        assert status == 501, status
        status = 400  # checked as any other error answer below
    payload_json = assert_json_answer(status, headers.get("content-type"), body, name)
    if name == "chunked body":
        assert status == 200 and payload_json["type_name"] == "chunked"
    if name in ("chunked body over 10 MiB", "body over 10 MiB"):
        assert status == 413
    if name in ("overlong header", "overlong request line"):
        assert 400 <= status < 500
    assert live.session.get(f"{live.url}/__admin/health").status_code == 200  # and the server still serves


def test_many_hostile_connections_at_once_leave_it_serving(live):
    """A burst of the socket cases in parallel: every one answered, and then normal service."""
    from concurrent.futures import ThreadPoolExecutor
    small = [(n, p) for n, p in RAW_CASES if len(p) < 100_000]
    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(lambda case: raw_request(live.url, case[1]), small * 4))
    for (name, _), (status, headers, body) in zip(small * 4, answers, strict=False):
        if name == "unknown transfer coding":
            assert status == 501
            status = 400
        if status != 100:
            assert_json_answer(status, headers.get("content-type"), body, name)
    response = live.session.get(f"{live.url}/100/touchpoints")
    assert response.status_code == 200
