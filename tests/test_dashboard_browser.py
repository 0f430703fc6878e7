"""The dashboard in a real browser (headless Chromium through Playwright).

Needs Debian's headless Chromium (`helpers.CHROMIUM`; Playwright's own download cannot
reach its host here). Without it these tests are skipped, unless
EMMA_MOCK_REQUIRE_BROWSER=1 (CI sets it): then they fail. One browser per worker
(`browser` in conftest.py) and one server per module; each test gets a freshly loaded page on a freshly reset
mock, and fails when the page logged an error or asked any other host for anything. The `page` fixture loads
it again in one tab kept for the module (a new tab costs a new renderer process, the largest part of these
tests' CPU); tests that need a tab of their own open one with `open_page`.

The page looks for changes every POLL_MS. Its timers run on Playwright's clock, which runs at real speed
unless told otherwise: after a change made elsewhere, `poll_now` brings the next poll forward instead of
waiting it out. test_a_request_from_any_client_appears_live_with_the_data_it_changed waits for the real poll.

Screenshots go to a temporary folder. `EMMA_MOCK_REFRESH_SCREENSHOT=1` makes the first-screen test
also write the README's docs/dashboard.png (then commit it); a normal run never touches it.
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import browser_pages
import pytest
import requests
from browser_pages import LIVE, eventually, open_newest_entry, open_page, poll_now

from mockserver.control.export import FILENAME
from mockserver.testing import MockServer

from helpers import raw_request, replay

ROOT = Path(__file__).resolve().parent.parent
README_SCREENSHOT = ROOT / "docs" / "dashboard.png"
server, tab, page = browser_pages.server, browser_pages.tab, browser_pages.page  # the fixtures, for this module
def test_first_screen_shows_accounts_data_and_journal_and_is_the_readme_screenshot(browser, server, tmp_path):
    server.reset()
    requests.get(server.base_url + "/touchpoints", auth=server.auth, timeout=5)
    requests.post(server.base_url + "/touchpoints", auth=server.auth, timeout=5,
                  json={"type_name": "opened_email", "display_name": "Opened Email"})
    requests.get(server.base_url + "/members/email/nobody@example.com", auth=server.auth, timeout=5)
    requests.get(server.base_url + "/touchpoints", auth=("demo-public-key", "wrong"), timeout=5)
    watched = open_page(browser, server.url)
    page = watched.page
    accounts = page.text_content("#accounts")
    for account in server.accounts:
        assert account["public_key"] in accounts and account["private_key"] in accounts
    assert f"curl -sS -g --path-as-is -u demo-public-key:demo-private-key --url {server.url}/100/touchpoints" in accounts
    assert page.input_value("#account") == "100"
    type_names = page.locator("#types tbody tr td:nth-child(2)").all_text_contents()
    assert type_names == ["visited_website", "purchased_tickets", "opened_email"]  # the API's order: oldest first
    assert "ann.smith@example.com" in page.text_content("#members")
    assert "start=0 end=2 of 2" in page.text_content("#touchpoints")  # member 444's, the first shown
    statuses = page.locator("#journal li .status").all_text_contents()
    assert statuses == ["401", "404", "200", "200"]  # newest first
    page.select_option("#account", "101")
    page.wait_for_selector("#members :text('carol.white@example.org')", timeout=LIVE)  # read as the page opens
    assert "ann.smith@example.com" not in page.text_content("#members")
    page.select_option("#account", "100")
    page.screenshot(path=str(tmp_path / "dashboard.png"))
    if os.environ.get("EMMA_MOCK_REFRESH_SCREENSHOT") == "1":
        page.screenshot(path=str(README_SCREENSHOT))
    watched.context.close()
    watched.check()


def test_the_page_is_small_and_opens_fast(browser, server):
    weight = sum(len(requests.get(server.url + path, timeout=5).content)
                 for path in ("/", "/__dashboard/dashboard.css", "/__dashboard/dashboard.js"))
    assert weight < 100_000
    watched = open_page(browser, server.url, wait_ready=False, clock=False)  # the page's own performance.now()
    watched.page.wait_for_selector("#accounts table", timeout=10_000)
    opened = watched.page.evaluate("performance.now()")
    assert opened < 5000, f"first screen after {opened:.0f} ms"
    watched.context.close()
    watched.check()


def test_a_request_from_any_client_appears_live_with_the_data_it_changed(page, server):
    assert page.locator("#journal li").count() == 0
    requests.post(server.base_url + "/touchpoints", auth=server.auth, timeout=5,
                  json={"type_name": "clicked_link", "display_name": "Clicked Link"})
    page.wait_for_selector("#journal li .path:text('/100/touchpoints')", timeout=LIVE)
    page.wait_for_selector("#types :text('clicked_link')", timeout=LIVE)
    assert page.locator("#journal li").count() == 1


def test_an_entry_opens_to_both_sides_and_its_curl_reproduces_it(page, server):
    requests.get(server.base_url + "/touchpoints/300", params={"start": "0"}, auth=server.auth, timeout=5)
    entry = open_newest_entry(page)
    detail = entry.locator(".detail")
    assert "Authorization: ***" in detail.text_content()
    assert "visited_website" in detail.locator(".response-body").text_content()
    entry.locator("button.copy-curl").click()
    curl = entry.locator("pre.curl").get_attribute("data-curl")
    assert page.evaluate("navigator.clipboard.readText()") == curl
    replay = subprocess.run(["bash", "-c", curl], capture_output=True, text=True, timeout=10)
    assert replay.returncode == 0, replay.stderr
    assert json.loads(replay.stdout) == server.requests()[0]["response_body"]


# A stand-in for the server's export: text that a round trip through JSON, a decoder or the clipboard
# would change (non-ASCII, a lone CR, trailing blanks, no final newline) and, for the download, a byte
# that is not UTF-8.
EXPORT = "# r\u00e9play \U0001F600\r\nimport requests  \n\ndef test_x(emma_mock):\n    assert 1 == 1\t"


def test_copy_as_a_pytest_test_copies_the_servers_export_up_to_that_entry(page, server):
    asked = []

    def export(route):
        asked.append(route.request.url)
        route.fulfill(status=200, content_type="text/x-python; charset=utf-8", body=EXPORT.encode())

    page.route("**/__admin/requests/export*", export)
    requests.get(server.base_url + "/touchpoints", auth=server.auth, timeout=5)
    requests.get(server.base_url + "/members", auth=server.auth, timeout=5)
    poll_now(page)
    page.wait_for_selector("#journal li:nth-child(2)", timeout=LIVE)
    entry = page.locator("#journal li").nth(1)  # the older one: the export stops at it
    entry.locator("summary").click()
    entry.locator("button.copy-pytest").click()
    page.wait_for_selector("#toast:text('copied')", timeout=LIVE)
    first = server.requests()[0]["id"]
    assert asked == [f"{server.url}/__admin/requests/export?until={first}"]
    assert page.evaluate("navigator.clipboard.readText()") == EXPORT
    assert page.locator("[data-pytest]").count() == 0  # no test is built in the page any more


@pytest.mark.parametrize(("status", "content_type", "body", "shown"), [
    (400, "application/json", b'{"error": "no journal entry 7: the journal holds 1 to 3"}',
     "no journal entry 7: the journal holds 1 to 3"),
    (500, "text/plain", b"the export broke", "the export broke"),
])
def test_a_refused_export_is_shown_with_the_servers_words_and_nothing_is_copied(page, tab, server, status,
                                                                                  content_type, body, shown):
    tab.allowed_errors = (f"status of {status}",)
    page.route("**/__admin/requests/export*",
               lambda route: route.fulfill(status=status, content_type=content_type, body=body))
    page.evaluate("navigator.clipboard.writeText('before')")
    requests.get(server.base_url + "/touchpoints", auth=server.auth, timeout=5)
    poll_now(page)
    entry = open_newest_entry(page)
    entry.locator("button.copy-pytest").click()
    entry.locator(f".copy-error:text('{shown}')").wait_for(timeout=LIVE)
    assert page.evaluate("navigator.clipboard.readText()") == "before"
    page.click("#download-session")
    page.wait_for_selector(f"#toast.bad:text('{shown}')", timeout=LIVE)


def test_download_session_as_a_test_saves_the_whole_export_as_sent(page, server, tmp_path):
    """Saved as the server sent it, under the name its Content-Disposition gives (the page holds none)."""
    sent = EXPORT.encode() + b"\n# \xff not UTF-8\n"
    asked = []
    disposition = requests.get(server.url + "/__admin/requests/export", timeout=5).headers["Content-Disposition"]
    assert disposition == f'attachment; filename="{FILENAME}"'

    def export(route):
        asked.append(route.request.url)
        route.fulfill(status=200, content_type="text/x-python; charset=utf-8", body=sent,
                      headers={"Content-Disposition": disposition})

    page.route("**/__admin/requests/export*", export)
    requests.get(server.base_url + "/touchpoints", auth=server.auth, timeout=5)
    with page.expect_download() as download:
        page.click("#download-session")
    assert download.value.suggested_filename == FILENAME
    page.wait_for_selector(f"#toast:text('Session saved as {FILENAME}')", timeout=LIVE)
    download.value.save_as(tmp_path / "saved.py")
    assert (tmp_path / "saved.py").read_bytes() == sent
    assert asked == [f"{server.url}/__admin/requests/export"]


def test_markup_sent_by_a_client_is_shown_as_text(page, server):
    requests.get(server.url + '/100/<img src=x onerror="window.pwned=1">', auth=server.auth, timeout=5)
    poll_now(page)
    page.wait_for_selector("#journal li", timeout=LIVE)
    assert page.locator("#journal img").count() == 0
    assert "<img src=x" in page.text_content("#journal")
    assert page.evaluate("window.pwned") is None


def test_a_path_shows_every_space_it_was_sent_with(page, server):
    """Runs of spaces are not collapsed: a path padded with them cannot pass for a shorter one and a status."""
    requests.get(server.base_url + "/x" + " " * 12 + "200", auth=server.auth, timeout=5)
    poll_now(page)
    page.wait_for_selector("#journal li", timeout=LIVE)
    assert page.locator("#journal li .path").first.inner_text() == "/100/x" + " " * 12 + "200"


def test_reset_is_reflected_by_every_open_page(page, browser, server):
    other = open_page(browser, server.url)
    requests.post(server.base_url + "/touchpoints", auth=server.auth, timeout=5,
                  json={"type_name": "temp", "display_name": "Temp"})
    poll_now(other.page)
    other.page.wait_for_selector("#types :text('temp')", timeout=LIVE)
    page.click("#reset")
    assert eventually(lambda: all(t["type_name"] != "temp" for t in server.state()["touchpoint_types"]))
    poll_now(other.page)  # the page that reset polls at once
    for shown in (page, other.page):
        shown.wait_for_selector("#types :text('temp')", state="detached", timeout=LIVE)
        shown.wait_for_selector("#journal li", state="detached", timeout=LIVE)
    other.context.close()
    other.check()


def test_state_downloads_and_uploads(page, server, tmp_path):
    with page.expect_download() as download:
        page.click("#download-state")
    saved = tmp_path / "state.json"
    download.value.save_as(saved)
    state = json.loads(saved.read_text())
    assert state == server.state()
    state["accounts"][0]["name"] = "Renamed Account"
    saved.write_text(json.dumps(state))
    page.set_input_files("#upload-state", str(saved))
    assert eventually(lambda: server.state()["accounts"][0]["name"] == "Renamed Account")
    page.wait_for_selector("#accounts :text('Renamed Account')", timeout=LIVE)


def test_faults_are_added_with_every_field_and_removed(page, server):
    page.select_option("#fault-method", "POST")
    page.fill("#fault-path", "/100/touchpoints*")
    page.fill("#fault-status", "503")
    page.fill("#fault-delay", "1, 5")
    page.select_option("#fault-action", "respond")
    page.fill("#fault-times", "2")
    page.fill("#fault-probability", "0.5")
    page.fill("#fault-seed", "7")
    page.fill("#fault-body", '{"error": "down"}')
    page.click("#fault-form button[type=submit]")
    assert eventually(server.faults)
    [fault] = server.faults()
    assert {k: fault[k] for k in ("method", "path", "status", "delay_ms", "action", "times", "probability",
                                  "seed", "body")} == {
        "method": "POST", "path": "/100/touchpoints*", "status": 503, "delay_ms": [1, 5], "action": "respond",
        "times": 2, "probability": 0.5, "seed": 7, "body": {"error": "down"}}
    page.click(f"tr[data-fault='{fault['id']}'] button")
    assert eventually(lambda: server.faults() == [])
    page.wait_for_selector("#faults :text('No faults')", timeout=LIVE)


def test_the_clock_freezes_advances_and_unfreezes(page, server):
    page.fill("#freeze-at", "@D:2030-01-02T03:04:05")
    page.click("#freeze-form button")
    assert eventually(lambda: server._admin("GET", "clock") == {"now": "@D:2030-01-02T03:04:05", "frozen": True})
    page.wait_for_selector("#now:text('@D:2030-01-02T03:04:05')", timeout=LIVE)
    page.fill("#advance-by", "3600")
    page.click("#advance-form button")
    assert eventually(lambda: server._admin("GET", "clock")["now"] == "@D:2030-01-02T04:04:05")
    page.wait_for_selector("#now:text('@D:2030-01-02T04:04:05')", timeout=LIVE)
    page.click("#unfreeze")
    assert eventually(lambda: not server._admin("GET", "clock")["frozen"])
    page.wait_for_selector("#clock-mode:text('real time')", timeout=LIVE)


def test_the_rate_limit_is_set_and_cleared(page, server):
    page.fill("#rate-requests", "3")
    page.fill("#rate-seconds", "2")
    page.click("#rate-form button")
    assert eventually(lambda: server._admin("GET", "rate-limit") == {"requests": 3, "per_seconds": 2})
    page.wait_for_selector("#rate-now:text('3 requests per 2 s')", timeout=LIVE)
    page.click("#rate-clear")
    assert eventually(lambda: server._admin("GET", "rate-limit") is None)
    page.wait_for_selector("#rate-now:text('none')", timeout=LIVE)


def _choose(page, label_start: str) -> None:
    options = page.locator("#try-op option").all_text_contents()
    [index] = [i for i, text in enumerate(options) if text.startswith(label_start + " — ")]
    page.select_option("#try-op", str(index))


def test_try_it_reads_and_shows_the_equivalent_curl(page, server):
    _choose(page, "GET /{account_id}/touchpoints/{touchpoint_type_id}")
    assert page.input_value("#try-params input[name=account_id]") == "100"
    page.fill("#try-params input[name=touchpoint_type_id]", "300")
    page.click("#try-form button[type=submit]")
    page.wait_for_selector("#try-status:text('200')", timeout=LIVE)
    shown = json.loads(page.text_content("#try-response"))
    assert shown["type_name"] == "visited_website"
    assert "content-type: application/json" in page.text_content("#try-headers")
    curl = page.text_content("#try-curl")
    replay = subprocess.run(["bash", "-c", curl], capture_output=True, text=True, timeout=10)
    assert json.loads(replay.stdout) == shown


def test_try_it_writes_as_the_chosen_account_with_the_prefilled_example(page, server):
    _choose(page, "POST /{account_id}/touchpoints")
    page.select_option("#try-account", "101")
    page.fill("#try-params input[name=account_id]", "101")
    assert json.loads(page.input_value("#try-body"))["type_name"]  # prefilled from the OpenAPI example
    page.click("#try-form button[type=submit]")
    page.wait_for_selector("#try-status:text('200')", timeout=LIVE)
    created = json.loads(page.text_content("#try-response"))
    assert created["account_id"] == 101
    assert any(t["touchpoint_type_id"] == created["touchpoint_type_id"] and t["account_id"] == 101
               for t in server.state()["touchpoint_types"])


def test_with_an_admin_token_the_page_asks_for_it_and_shows_nothing_before(browser):
    refused = ("status of 401",)  # the browser logs each refused /__admin call; that is the point here
    with MockServer(admin_token="let-me-in") as guarded:
        watched = open_page(browser, guarded.url, allowed_errors=refused, wait_ready=False)
        page = watched.page
        page.wait_for_selector("#token-gate", state="visible", timeout=LIVE)
        assert page.is_hidden("#main")
        assert "demo-private-key" not in page.content() and "demo-public-key" not in page.content()
        page.fill("#token-input", "wrong")
        page.click("#token-form button")
        page.wait_for_selector("#token-error:text('refused')", timeout=LIVE)
        assert "demo-private-key" not in page.content()
        page.fill("#token-input", "let-me-in")
        page.click("#token-form button")
        page.wait_for_selector("#accounts :text('demo-private-key')", timeout=LIVE)
        assert page.evaluate("sessionStorage.getItem('emma-mock-admin-token')") == "let-me-in"
        page.reload()
        page.wait_for_selector("#accounts :text('demo-private-key')", timeout=LIVE)  # kept for the tab
        page.click("#forget-token")
        page.wait_for_selector("#token-gate", state="visible", timeout=LIVE)
        assert page.evaluate("sessionStorage.getItem('emma-mock-admin-token')") is None
        watched.context.close()
        watched.check()


def shown_count(page, count: int) -> None:
    """Wait until the journal shows this many entries."""
    from playwright.sync_api import expect
    expect(page.locator("#journal li")).to_have_count(count, timeout=LIVE)


def _shown_paths(page) -> list[str]:
    return page.locator("#journal li .path").all_text_contents()


def test_the_journal_filter_shows_what_the_control_api_filter_matches_and_keeps_it_as_entries_arrive(page, server):
    requests.get(server.base_url + "/touchpoints", auth=server.auth, timeout=5)
    requests.get(server.base_url + "/members/444", auth=server.auth, timeout=5)
    requests.get(server.base_url + "/members/999", auth=server.auth, timeout=5)
    poll_now(page)
    page.wait_for_selector("#journal li:nth-child(3)", timeout=LIVE)
    page.fill("#filter-path", "/100/members/*")
    poll_now(page)  # the filter waits for typing to pause
    shown_count(page, 2)
    assert _shown_paths(page) == ["/100/members/999", "/100/members/444"]
    page.fill("#filter-status", "404")
    poll_now(page)
    shown_count(page, 1)
    assert _shown_paths(page) == ["/100/members/999"]
    requests.get(server.base_url + "/members/444", auth=server.auth, timeout=5)  # 200: not shown
    requests.get(server.base_url + "/touchpoints/1", auth=server.auth, timeout=5)  # 404, other path: not shown
    requests.get(server.base_url + "/members/998", auth=server.auth, timeout=5)  # matches, sent last: shown
    poll_now(page)
    page.wait_for_selector("#journal li .path:text('/100/members/998')", timeout=LIVE)
    assert _shown_paths(page) == ["/100/members/998", "/100/members/999"]
    page.fill("#filter-status", "")
    page.fill("#filter-path", "")
    page.fill("#filter-method", "post")  # any case, as the control API takes it
    poll_now(page)
    shown_count(page, 0)
    page.wait_for_selector("#journal-empty:text('No request matches the filter')", timeout=LIVE)
    page.click("#filter-clear")
    shown_count(page, 6)


def test_a_bad_journal_filter_says_why_beside_it(page, tab, server):
    tab.allowed_errors = ("status of 400",)
    page.fill("#filter-status", "soon")
    poll_now(page)
    page.wait_for_selector("#filter-error:text('three-digit')", timeout=LIVE)
    page.fill("#filter-status", "")
    page.fill("#filter-path", "/" + "x" * 300)  # past the server's limit: its 400 is shown
    poll_now(page)
    page.wait_for_selector("#filter-error:text('at most 256 characters')", timeout=LIVE)


def _open_newest_in_try_it(page) -> None:
    open_newest_entry(page).locator("button.open-try").click()


def test_an_entry_opens_in_try_it_and_sends_the_same_request_again(page, tab, server):
    tab.allowed_errors = ("status of 400",)  # the second answer
    sent = b'{"type_name": "from_the_journal", "display_name": "From \\u00e9 Journal"}'
    requests.post(server.url + "/101/touchpoints", params={"x": "a b", "y": ["1", "2"]}, data=sent,
                  headers={"Content-Type": "application/json"}, auth=("other-public-key", "other-private-key"),
                  timeout=5)
    _open_newest_in_try_it(page)
    assert page.input_value("#try-method") == "POST"
    assert page.input_value("#try-path") == "/101/touchpoints?x=a%20b&y=1&y=2"
    assert page.input_value("#try-account") == "101"
    assert page.input_value("#try-type") == "application/json"
    assert json.loads(page.input_value("#try-body")) == json.loads(sent)
    assert page.locator("#try-panel").evaluate("panel => panel.getBoundingClientRect().top < innerHeight")
    page.click("#try-form button[type=submit]")
    page.wait_for_selector("#try-status:text('400')", timeout=LIVE)  # the type exists now: the API says so
    assert eventually(lambda: len(server.requests()) == 2)
    first, again = server.requests()
    for field in ("method", "path", "query", "body"):
        assert again[field] == first[field], field
    assert again["headers"]["Authorization"] == "***" and again["status"] == 400
    assert "already" in json.dumps(again["response_body"])


def test_an_entry_sent_without_credentials_opens_in_try_it_without_them(page, tab, server):
    tab.allowed_errors = ("status of 401",)
    requests.get(server.url + "/100/touchpoints", timeout=5)
    _open_newest_in_try_it(page)
    assert page.input_value("#try-account") == ""
    page.click("#try-form button[type=submit]")
    page.wait_for_selector("#try-status:text('401')", timeout=LIVE)


@pytest.mark.parametrize(("field", "typed", "said"), [
    ("delay", "soon", "a number, or \"min, max\""),
    ("delay", "900, 100", "min ≤ max"),
    ("delay", "1, 2, 3", "a number, or \"min, max\""),
    ("status", "abc", "whole number from 200 to 599"),
    ("status", "99", "whole number from 200 to 599"),
    ("status", "503.5", "whole number from 200 to 599"),
    ("times", "0", "from 1"),
    ("probability", "2", "from 0 to 1"),
    ("probability", "half", "from 0 to 1"),
    ("seed", "abc", "whole number"),
    ("path", "/" + "x" * 256, "at most 256 characters"),
    ("body", "{nope", "Not JSON"),
])
def test_a_bad_fault_field_is_named_beside_it_and_nothing_is_sent(page, server, field, typed, said):
    if field != "status":
        page.fill("#fault-status", "503")
    page.fill(f"#fault-{field}", typed)
    page.click("#fault-form button[type=submit]")
    page.wait_for_selector(f"#fault-{field}-error:text('{said}')", timeout=LIVE)
    assert page.get_attribute(f"#fault-{field}", "aria-invalid") == "true"
    assert server.faults() == []
    assert "added" not in page.text_content("#toast")
    page.fill(f"#fault-{field}", "503" if field == "status" else "")  # mended: it goes through, the mark goes
    page.click("#fault-form button[type=submit]")
    page.wait_for_selector("#toast:text('added')", timeout=LIVE)
    assert len(server.faults()) == 1 and page.text_content(f"#fault-{field}-error") == ""


def test_a_fault_with_nothing_to_do_is_refused_in_the_page(page, server):
    page.fill("#fault-path", "/100/*")
    page.click("#fault-form button[type=submit]")
    page.wait_for_selector("#fault-status-error:text('a status, a delay or an action')", timeout=LIVE)
    assert server.faults() == []


def test_a_fault_the_server_refuses_shows_its_message_beside_the_form_and_never_says_added(page, tab, server):
    tab.allowed_errors = ("status of 400",)
    page.fill("#fault-status", "503")
    page.fill("#fault-body", json.dumps("x" * 70_000))  # valid JSON, over the server's 64 KiB
    page.click("#fault-form button[type=submit]")
    page.wait_for_selector("#fault-error:text('over 64 KiB')", timeout=LIVE)
    assert page.text_content("#fault-error").startswith("Not added: ")
    assert "added" not in page.text_content("#toast") and server.faults() == []


def test_the_journal_says_which_clock_its_times_follow(page, server):
    page.wait_for_selector("#journal-clock:text('real time')", timeout=LIVE)
    server._admin("PUT", "clock", json={"now": "@D:2030-01-02T03:04:05"})
    poll_now(page)
    page.wait_for_selector("#journal-clock:text('frozen now at @D:2030-01-02T03:04:05')", timeout=LIVE)
    requests.get(server.base_url + "/touchpoints", auth=server.auth, timeout=5)
    poll_now(page)
    page.wait_for_selector("#journal li time:text('2030-01-02 03:04:05')", timeout=LIVE)
    server._admin("DELETE", "clock")
    poll_now(page)
    page.wait_for_selector("#journal-clock:text('real time')", timeout=LIVE)


def test_the_copied_test_of_every_journal_entry_of_a_session_passes_when_run(page, server, tmp_path):
    """Each entry's "Copy as a pytest test", pasted into a file and run with pytest, passes."""
    session = requests.Session()
    session.post(server.base_url + "/touchpoints", auth=server.auth, timeout=5,
                 json={"type_name": "copied", "display_name": "Copied"})
    session.post(server.base_url + "/touchpoints/members", auth=server.auth, timeout=5,
                 json={"touchpoints": [{"member_id": 444, "type_name": "copied", "touchpoint_monetary_value": 3}]})
    session.get(server.base_url + "/touchpoints/members/444", auth=server.auth, timeout=5)
    session.get(server.base_url + "/touchpoints", auth=("demo-public-key", "wrong"), timeout=5)
    server.add_fault(method="GET", path="/100/members*", status=503, times=1)
    session.get(server.base_url + "/members", auth=server.auth, timeout=5)
    session.get(server.base_url + "/members", auth=server.auth, timeout=5)
    entries = server.requests()
    poll_now(page)
    page.wait_for_selector(f"#journal li:nth-child({len(entries)})", timeout=LIVE)
    modules = {}
    for shown in range(len(entries)):  # newest first on the page
        entry = page.locator("#journal li").nth(shown)
        entry.locator("summary").click()
        page.evaluate("navigator.clipboard.writeText('')")
        entry.locator("button.copy-pytest").click()
        # Read in a loop from here: a function returning a promise is truthy to wait_for_function at once.
        modules[f"test_copied_{shown}.py"] = eventually(lambda: page.evaluate("navigator.clipboard.readText()"))
        assert modules[f"test_copied_{shown}.py"].startswith('"""A replay of an emma-mock session'), shown
    result = replay(tmp_path, modules)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(entries)} passed" in result.stdout, result.stdout


def test_an_entry_with_dot_segments_is_not_sent_from_try_it_as_another_path(page, tab, server):
    """A browser resolves `..` away (`%2e%2e` too): `POST /100/../__admin/reset` would become a reset."""
    tab.allowed_errors = ("status of 401",)  # the one it sends has no keys
    raw_request(server.url, b"POST /100/touchpoints/../../__admin/reset HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                            b"Content-Length: 0\r\nConnection: close\r\n\r\n")
    server.add_fault(path="/nothing-matches", status=500)  # a reset would remove it
    _open_newest_in_try_it(page)
    for path in ("/100/touchpoints/../../__admin/reset", "/100/%2E%2e/__admin/reset", "/100/./x/%2e/../__admin/reset"):
        page.fill("#try-path", path)
        page.click("#try-form button[type=submit]")
        page.wait_for_selector("#try-status:text('Not sent')", timeout=LIVE)
        assert "--path-as-is" in page.text_content("#try-curl")
    page.fill("#try-path", "/100/touchpoints/..x/%2e%2e%2e")  # not dot segments: sent as typed
    page.click("#try-form button[type=submit]")
    assert eventually(lambda: len(server.requests()) == 2)
    assert server.requests()[1]["path"] == "/100/touchpoints/..x/...", server.requests()[1]
    assert len(server.faults()) == 1  # the mock was never reset
