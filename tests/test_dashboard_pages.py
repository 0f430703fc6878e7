"""No control or dashboard read costs more than the page it shows (SPEC §6): the paged control reads,
`MockServer.connect` and the plugin's reset, and the dashboard in a real browser while writes happen."""
from __future__ import annotations

import pytest
import requests
from browser_pages import LIVE, eventually, open_page, poll_now
from flask import request as flask_request

from mockserver import MockServer


def test_accounts_and_their_data_are_read_a_page_at_a_time(anonymous):
    assert anonymous.get("/__admin/accounts?start=1&end=2").json == [
        {"account_id": 101, "public_key": "other-public-key", "private_key": "other-private-key",
         "name": "Other Account"}]
    assert anonymous.get("/__admin/accounts?count=true").json == 2
    assert anonymous.get("/__admin/accounts/100").json["private_key"] == "demo-private-key"
    assert [t["type_name"] for t in anonymous.get("/__admin/accounts/100/touchpoints").json] == [
        "visited_website", "purchased_tickets"]
    members = anonymous.get("/__admin/accounts/100/members?end=1").json
    assert [(m["member_id"], m["touchpoint_count"]) for m in members] == [(444, 2)]
    assert [t["touchpoint_id"] for t in anonymous.get("/__admin/accounts/100/members/444/touchpoints?start=1").json] == [3]
    assert anonymous.get("/__admin/accounts/100/members/444/touchpoints?count=1").json == 2


@pytest.mark.parametrize("path, status, error", [
    ("/__admin/accounts/7", 404, "no account 7"),
    ("/__admin/accounts/7/members", 404, "no account 7"),
    ("/__admin/accounts/7/touchpoints", 404, "no account 7"),
    ("/__admin/accounts/100/members/666/touchpoints", 404, "no member with id 666 in account 100"),
    ("/__admin/accounts?start=-1", 400, "query parameter 'start' must be a non-negative integer, got '-1'"),
    ("/__admin/accounts/100/members?start=5&end=2", 400, "query parameter 'end' (2) must not be less than 'start' (5)"),
])
def test_bad_page_reads_say_what_to_fix(anonymous, path, status, error):
    answer = anonymous.get(path)
    assert (answer.status_code, answer.json) == (status, {"error": error})


@pytest.fixture
def watched_server():
    """A mock that notes the path of every control request it answers."""
    server = MockServer()
    seen: list[str] = []
    server.app.before_request(lambda: seen.append(flask_request.path) if flask_request.path.startswith("/__admin")
                              else None)
    with server:
        yield server, seen


def test_connect_and_reset_never_download_the_state(watched_server):
    server, seen = watched_server
    with MockServer.connect(server.url) as attached:
        for _ in range(3):
            attached.reset()  # what the plugin does before every test on an attached mock
        assert attached.account_id == 100 and attached.auth == ("demo-public-key", "demo-private-key")
        assert attached.auth_for(101) == ("other-public-key", "other-private-key")
        assert attached.session.get(attached.base_url + "/touchpoints").status_code == 200
        with pytest.raises(KeyError, match="no account 7"):
            attached.auth_for(7)
        assert [a["account_id"] for a in attached.accounts] == [100, 101]
    assert seen and "/__admin/state" not in seen


def test_the_page_reads_only_what_it_shows_while_writes_happen(browser, watched_server):
    server, seen = watched_server
    for index in range(30):  # more than a page of members, each with touchpoints
        requests.post(server.base_url + "/members/add", json={"email": f"m{index}@example.com"}, auth=server.auth,
                      timeout=5)
    watched = open_page(browser, server.url)
    answers: list[tuple[str, int]] = []
    watched.page.on("response", lambda r: answers.append((r.url, len(r.body()))) if "/__admin/" in r.url else None)
    for index in range(5):
        requests.post(server.base_url + "/touchpoints", json={"type_name": f"t{index}", "display_name": "T"},
                      auth=server.auth, timeout=5)
        poll_now(watched.page)
        watched.page.wait_for_selector(f"#journal li .path:text('/100/touchpoints') >> nth={index}", timeout=LIVE)
    assert eventually(lambda: len(answers) > 10)
    assert "/__admin/state" not in seen
    assert max(size for _, size in answers) < 20_000, "a poll read more than the page it shows"
    assert watched.page.locator("#members tbody tr").count() == 5
    watched.context.close()
    watched.check()
