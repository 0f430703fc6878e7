"""The shortcuts of the request hot path keep every answer: cached credentials, the journal's environ copy,
the shared empty session."""
from __future__ import annotations

import base64

from helpers import basic


def test_journal_headers_are_the_request_headers_only(anonymous):
    anonymous.get("/100/touchpoints", headers={**basic("demo-public-key", "demo-private-key"), "X-Trace": "t1"})
    anonymous.post("/100/touchpoints", data=b'{"type_name": "h", "display_name": "H"}',
                   headers={**basic("demo-public-key", "demo-private-key"), "Content-Type": "application/json"})
    get, post = anonymous.get("/__admin/requests").json
    assert get["headers"]["X-Trace"] == "t1" and get["headers"]["Authorization"] == "***"
    assert post["headers"]["Content-Type"] == "application/json" and post["headers"]["Content-Length"] == "39"
    for entry in (get, post):  # the environ's other keys (server, input stream, werkzeug's) are no headers
        assert all(not name.lower().startswith(("wsgi", "werkzeug", "remote", "server", "request", "path",
                                                "query", "mockserver")) for name in entry["headers"])


def test_cached_credentials_answer_like_fresh_ones(anonymous):
    good = basic("demo-public-key", "demo-private-key")
    for _ in range(3):  # the first decodes the header, the next come from the cache
        found = anonymous.get("/100/touchpoints/300", headers=good)
        assert found.status_code == 200 and found.json["type_name"] == "visited_website"
        unknown = anonymous.get("/100/touchpoints/300", headers=basic("demo-public-key", "wrong"))
        assert (unknown.status_code, unknown.json) == (401, {"error": "unknown API keys: check the public and private key"})
        foreign = anonymous.get("/200/touchpoints/300", headers=good)
        assert (foreign.status_code, foreign.json) == (403, {"error": "these API keys belong to account 100, "
                                                                      "not to account 200"})


def test_a_long_authorization_header_is_decoded_not_cached(anonymous):
    token = base64.b64encode(b"demo-public-key:" + b"x" * 4000).decode()
    response = anonymous.get("/100/touchpoints/300", headers={"Authorization": "Basic " + token})
    assert response.status_code == 401 and "unknown API keys" in response.json["error"]
    padded = "Basic " + base64.b64encode(b"demo-public-key:demo-private-key").decode() + " " * 300
    found = anonymous.get("/100/touchpoints/300", headers={"Authorization": padded})
    assert found.status_code == 200 and found.json["touchpoint_type_id"] == 300


def test_sessions_stay_empty_and_unwritten(client):
    response = client.get("/100/touchpoints/300")
    assert response.status_code == 200 and "Set-Cookie" not in response.headers
    again = client.get("/100/touchpoints/300")
    assert again.status_code == 200 and again.json == response.json and "Set-Cookie" not in again.headers
