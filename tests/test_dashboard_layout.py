"""The dashboard from a phone (390 px) to a wide screen (1,280 px), in headless Chromium (SPEC §8, issue 19).

The page never scrolls sideways (a wide table scrolls inside its own box), and every control can be
scrolled into view and clicked on a phone. Screenshots of both widths go to a temporary folder.
"""
from __future__ import annotations

import browser_pages
import pytest
import requests
from browser_pages import LIVE, open_page

server = browser_pages.server  # the fixture, for this module

CONTROLS = ["#reset", "#controls-panel >> text=Reset to fixtures", "#download-state", "label[for=upload-state]",
            "#freeze-at", "#freeze-form button", "#advance-by", "#advance-form button", "#unfreeze",
            "#rate-requests", "#rate-seconds", "#rate-form button", "#rate-clear",
            "#fault-method", "#fault-path", "#fault-status", "#fault-delay", "#fault-action", "#fault-times",
            "#fault-probability", "#fault-seed", "#fault-body", "#fault-form button[type=submit]", "#faults-clear",
            "#faults tr[data-fault] button",
            "#try-op", "#try-account", "#try-form button[type=submit]",
            "#filter-method", "#filter-path", "#filter-status", "#filter-clear", "#download-session", "#clear-journal",
            "#journal li summary", "#journal button.copy-curl", "#journal button.copy-pytest",
            "#journal button.open-try", "#account", "#members button[data-member]"]


def _busy_session(server) -> None:
    """What makes a page wide: a long path and query, a 12-column faults table, long keys."""
    server.reset()
    server.add_fault(path="/100/members/" + "x" * 120, status=503, delay_ms=[1, 5], times=3, probability=0.5,
                     seed=7, body={"error": "a long error text " * 6})
    requests.get(server.base_url + "/members/email/" + "someone.with.a.long.name@example.com",
                 params={"filter": "y" * 300}, auth=server.auth, timeout=5)
    requests.post(server.base_url + "/touchpoints", auth=server.auth, timeout=5,
                  json={"type_name": "a_type_name_without_any_space_" * 3, "display_name": "Long"})


@pytest.mark.parametrize("width", [390, 1280])
def test_the_page_never_scrolls_sideways_and_every_control_is_reachable(browser, server, width, tmp_path):
    _busy_session(server)
    watched = open_page(browser, server.url, clock=False, width=width, height=844 if width == 390 else 800)
    page = watched.page
    page.wait_for_selector("#journal li:nth-child(2)", timeout=LIVE)
    page.wait_for_selector("#faults tr[data-fault]", timeout=LIVE)
    page.locator("#journal li summary").last.click()  # the long path, opened: its curl line is wide
    page.locator("#journal .detail").wait_for(timeout=LIVE)
    page.screenshot(path=str(tmp_path / f"dashboard-{width}.png"), full_page=True)
    sideways = "document.documentElement.scrollWidth <= window.innerWidth"
    assert page.evaluate(sideways), page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    faults = page.locator("#faults")
    if width == 390:  # the table is wider than a phone: it scrolls in its box, the page does not
        assert faults.evaluate("box => box.scrollWidth > box.clientWidth")
    for selector in CONTROLS:
        control = page.locator(selector).first
        control.click(trial=True, timeout=LIVE)  # scrolled to: visible, enabled, and not covered by anything
        box = control.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, (selector, box)
    assert page.evaluate(sideways)
    page.screenshot(path=str(tmp_path / f"dashboard-{width}-end.png"))
    print(f"screenshots: {tmp_path}")
    watched.context.close()
    watched.check()
