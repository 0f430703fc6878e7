"""The dashboard's server side: the page and assets, the journal's new fields, `after`, `/__admin/changes`."""
from __future__ import annotations

import socket

import pytest

from mockserver import Config, create_app
from mockserver.serving.cli import banner
from mockserver.state.journal import BODY_LIMIT
from mockserver.testing import MockServer


def test_the_page_is_html_served_to_anyone_and_not_journaled(anonymous, client):
    page = anonymous.get("/")
    assert page.status_code == 200
    assert page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "/__dashboard/dashboard.js" in html and "/__dashboard/dashboard.css" in html
    assert "demo-private-key" not in html and "demo-public-key" not in html  # keys come from /__admin/state
    assert client.get("/__admin/requests").get_json() == []


@pytest.mark.parametrize(("name", "mimetype"), [("dashboard.css", "text/css"), ("dashboard.js", "text/javascript")])
def test_assets_are_served_with_their_type(anonymous, name, mimetype):
    response = anonymous.get(f"/__dashboard/{name}")
    assert response.status_code == 200
    assert response.mimetype == mimetype
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_page_may_load_nothing_from_another_host(anonymous):
    policy = anonymous.get("/").headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "connect-src 'self'" in policy and "script-src 'self'" in policy
    for name in ("index.html", "dashboard.css", "dashboard.js"):
        path = "/" if name == "index.html" else f"/__dashboard/{name}"
        text = anonymous.get(path).get_data(as_text=True)
        assert "http://" not in text.replace("http://127.0.0.1", "") and "https://" not in text, name


@pytest.mark.parametrize("path", ["/__dashboard/index.html", "/__dashboard/../pyproject.toml", "/__dashboard/x",
                                  "/__dashboard"])
def test_unknown_assets_are_json_404s(anonymous, path):
    response = anonymous.get(path)
    assert response.status_code == 404
    assert response.mimetype == "application/json"
    assert "error" in response.get_json()


def test_other_verbs_on_the_page_are_json_405s(anonymous):
    response = anonymous.post("/")
    assert response.status_code == 405
    assert response.mimetype == "application/json"
    assert response.headers["Allow"] == "GET, HEAD"


def test_the_page_needs_no_admin_token_but_holds_nothing_without_it():
    app = create_app(Config(admin_token="s3cret"))
    anonymous = app.test_client()
    assert anonymous.get("/").status_code == 200
    assert anonymous.get("/__dashboard/dashboard.js").status_code == 200
    assert anonymous.get("/__admin/changes").status_code == 401
    assert anonymous.get("/__admin/state").status_code == 401
    assert anonymous.get("/__admin/changes", headers={"X-Admin-Token": "s3cret"}).status_code == 200


def test_journal_entries_keep_both_sides(client):
    sent = client.post("/100/touchpoints", json={"type_name": "signed_up", "display_name": "Signed Up"})
    [entry] = client.get("/__admin/requests").get_json()
    assert entry["id"] >= 1
    assert entry["status"] == 200
    assert entry["response_body"] == sent.get_json()
    assert entry["response_headers"]["Content-Type"] == "application/json"
    assert entry["headers"]["Authorization"] == "***"
    assert entry["fault"] is None


def test_journal_keeps_error_answers_of_auth_and_faults(client, anonymous):
    anonymous.get("/100/touchpoints")
    fault = client.post("/__admin/faults", json={"path": "/100/members", "status": 503}).get_json()
    client.get("/100/members")
    unauthenticated, faulted = client.get("/__admin/requests").get_json()
    assert unauthenticated["status"] == 401
    assert unauthenticated["response_headers"]["WWW-Authenticate"] == 'Basic realm="Emma API"'
    assert "error" in unauthenticated["response_body"]
    assert faulted["fault"] == fault["id"]
    assert faulted["status"] == 503 and faulted["response_body"] == {"error": f"Injected fault {fault['id']}: HTTP 503"}


def test_a_delay_only_fault_is_named_on_the_entry_it_delayed(client):
    fault = client.post("/__admin/faults", json={"delay_ms": 1}).get_json()
    client.get("/100/touchpoints")
    [entry] = client.get("/__admin/requests").get_json()
    assert entry["status"] == 200 and entry["fault"] == fault["id"]


def test_large_response_bodies_keep_only_their_size(client):
    big = {"type_name": "t", "display_name": "x" * 1000}
    state = client.get("/__admin/state").get_json()
    state["touchpoint_types"] = [{"account_id": 100, "touchpoint_type_id": n, "type_name": f"type_{n}",
                                  "display_name": "y" * 200, "created_at": "@D:2025-01-01T00:00:00"}
                                 for n in range(1, BODY_LIMIT // 200 + 10)]
    state["touchpoints"] = []
    assert client.put("/__admin/state", json=state).status_code == 200
    assert len(client.get("/100/touchpoints").data) > BODY_LIMIT
    client.post("/100/touchpoints", json=big)
    cut, kept = client.get("/__admin/requests").get_json()
    assert isinstance(cut["response_body"], str) and "not recorded" in cut["response_body"]
    assert kept["response_body"]["display_name"] == "x" * 1000


def test_ids_grow_across_clear_and_reset_and_after_filters(client):
    for _ in range(3):
        client.get("/100/touchpoints")
    ids = [e["id"] for e in client.get("/__admin/requests").get_json()]
    assert ids == sorted(ids) and len(set(ids)) == 3
    assert [e["id"] for e in client.get(f"/__admin/requests?after={ids[0]}").get_json()] == ids[1:]
    client.delete("/__admin/requests")
    client.post("/__admin/reset")
    client.get("/100/touchpoints")
    [entry] = client.get("/__admin/requests").get_json()
    assert entry["id"] > ids[-1]
    assert client.get(f"/__admin/requests?after={entry['id']}").get_json() == []


@pytest.mark.parametrize("after", ["-1", "x", "1.5", "١", "9" * 40])
def test_a_bad_after_is_a_400(client, after):
    response = client.get("/__admin/requests", query_string={"after": after})
    assert response.status_code == 400
    assert "after" in response.get_json()["error"]


def test_changes_move_with_state_journal_and_controls(client):
    def changes():
        return client.get("/__admin/changes").get_json()

    start = changes()
    assert set(start) == {"state", "requests", "controls", "cleared"} and start["requests"] == 0
    client.get("/100/touchpoints")  # a read: journal moves, state does not
    read = changes()
    assert read["state"] == start["state"] and read["requests"] > 0 and read["controls"] == start["controls"]
    client.post("/100/touchpoints", json={"type_name": "a", "display_name": "A"})
    wrote = changes()
    assert wrote["state"] != read["state"]
    for method, path, body in [("put", "/__admin/clock", {"advance_seconds": 5}), ("delete", "/__admin/clock", None),
                               ("post", "/__admin/faults", {"status": 500, "path": "/none"}),
                               ("delete", "/__admin/faults", None),
                               ("put", "/__admin/rate-limit", {"requests": 5, "per_seconds": 1}),
                               ("delete", "/__admin/rate-limit", None)]:
        before = changes()["controls"]
        getattr(client, method)(path, json=body)
        assert changes()["controls"] != before, (method, path)
    state = client.get("/__admin/state").get_json()
    before = changes()
    client.put("/__admin/state", json=state)
    uploaded = changes()
    assert uploaded["state"] != before["state"]
    client.post("/__admin/reset")
    after_reset = changes()
    assert after_reset["state"] != uploaded["state"]
    assert after_reset["cleared"] > before["cleared"]
    assert after_reset["requests"] == before["requests"]  # the newest id is kept, so `after` keeps working


def test_admin_and_page_requests_do_not_move_the_journal(client):
    client.get("/")
    client.get("/__dashboard/dashboard.js")
    client.get("/__admin/state")
    assert client.get("/__admin/changes").get_json()["requests"] == 0


def test_the_banner_points_to_the_dashboard():
    text = banner("http://127.0.0.1:8080", Config(), [])
    assert "dashboard: http://127.0.0.1:8080/" in text


def test_a_raw_request_for_the_page_is_answered_by_the_real_server():
    # What a browser sends, byte for byte, to the threaded server: the page and then an asset.
    with MockServer() as server:
        host, port = server.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nAccept: text/html\r\nConnection: close\r\n\r\n")
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200")
        assert b"text/html" in head and b"<!doctype html>" in body
        assert server.requests() == []
