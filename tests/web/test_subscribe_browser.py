"""A reader in Chromium: subscribes, confirms from the mail, sets preferences, unsubscribes with the button."""

from __future__ import annotations

import email
import re
from email import policy

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from services.core import runtime
from services.core.db.models import Subscriber
from services.core.runtime import Runtime
from tests.browser import screenshot_path
from tests.event_driver import handle_recorded_events

pytestmark = [pytest.mark.browser, pytest.mark.postgres]


def _link(served: Runtime, pattern: str) -> str:
    # The worker's part: owed mails are events whose handlers render with the installed runtime's settings,
    # so the served site's (its base URL is the live server's address) is installed while they run.
    previous = runtime.current()
    runtime.install(served)
    try:
        handle_recorded_events(served)
    finally:
        runtime.install(previous)
    mails = [email.message_from_bytes(p.read_bytes(), policy=policy.default)
             for p in sorted(served.settings.outbox_dir.glob("*.eml"), key=lambda p: p.stat().st_mtime)]
    text = mails[-1].get_body(("plain",)).get_content()
    return re.search(pattern, text).group(0)


def _state(rt: Runtime) -> tuple[str, bool]:
    with rt.sessions() as session:
        row = session.execute(select(Subscriber.state, Subscriber.paused)).one()
    return row.state, row.paused


def test_a_reader_subscribes_confirms_pauses_and_unsubscribes_in_the_browser(rt: Runtime, site, browser) -> None:
    served, base = site
    page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    # Given the subscribe box on the public index, When a reader subscribes
    page.goto(f"{base}/")
    page.fill("input[name=email]", "Reader@Example.org")
    page.click("button:has-text('Subscribe')")
    expect(page.locator("h1")).to_have_text("Check your inbox")
    # When they follow the link in the confirmation mail, Then they are in (and welcomed)
    page.goto(_link(served, r"http://127\.0\.0\.1:\d+/confirm/\S+"))
    expect(page.locator("h1")).to_have_text("You're in")
    assert _state(rt) == ("confirmed", False)
    # When they open the preferences link from the welcome mail and pause the digest
    page.goto(_link(served, r"http://127\.0\.0\.1:\d+/prefs/\S+"))
    page.check("input[name=paused]")
    page.click("button:has-text('Save')")
    expect(page.locator("[role=status]")).to_have_text("Saved.")
    assert _state(rt) == ("confirmed", True)
    # When they open the unsubscribe link, Then nothing happens until they press the button
    page.goto(_link(served, r"http://127\.0\.0\.1:\d+/unsubscribe/\S+"))
    expect(page.locator("button:has-text('Unsubscribe')")).to_be_visible()
    assert _state(rt)[0] == "confirmed"
    page.screenshot(path=str(screenshot_path("unsubscribe-page.png")), full_page=True)
    page.click("button:has-text('Unsubscribe')")
    expect(page.locator("h1")).to_have_text("You're unsubscribed")
    assert _state(rt)[0] == "unsubscribed"
