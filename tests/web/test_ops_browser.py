"""The ops page in Chromium: retrying a dead letter in one tab, the count falls in another without a reload."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from services.core.runtime import Runtime
from tests.browser import screenshot_path
from tests.ops.conftest import PASSWORD, add_user, new_probe, wait_until, worker_thread
from tests.ops.figures import page_figures

pytestmark = [pytest.mark.browser, pytest.mark.redis, pytest.mark.postgres]


def test_retrying_a_dead_letter_makes_the_live_count_fall(rt: Runtime, site: tuple[Runtime, str], browser,
                                                          redis_required: None) -> None:
    # Given two dead letters on a queue (its worker stopped since) and an ops user signed in
    _, base = site
    probe = new_probe()
    with worker_thread(probe.queue):
        probe.fail.send("a", 1)
        probe.fail.send("b", 2)
        from services.core import broker
        from services.ops.queues import queue_depths

        wait_until(lambda: any(d.name == probe.queue and d.dead == 2 for d in queue_depths(broker.current())),
                   what="two dead letters")
    add_user(rt, "ops")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    watching = context.new_page()
    watching.goto(f"{base}/login?next=/ops")
    watching.fill("input[name=email]", "ops@example.org")
    watching.fill("input[name=password]", PASSWORD)
    watching.click("button[type=submit]:has-text('Sign in')")
    row = watching.locator(f'tr[data-queue="{probe.queue}"]')
    expect(row.locator('[data-figure="dead"]')).to_have_text("2")
    expect(row.locator('[data-figure="ready"]')).to_have_text("0")

    # When, in a second tab, ops opens the queue, reads the error and retries one dead letter
    acting = context.new_page()
    acting.goto(f"{base}/ops/queues/{probe.queue}")
    expect(acting.locator("article.dead-letter")).to_have_count(2)
    expect(acting.locator("article.dead-letter").first).to_contain_text("ValueError: probe failure")
    acting.locator("article.dead-letter").first.get_by_role("button", name="Retry").click()

    # Then that tab says so and shows one dead letter left
    expect(acting.get_by_role("status")).to_have_text("Sent back to the queue.")
    expect(acting.locator("article.dead-letter")).to_have_count(1)
    expect(acting.locator('.figure [data-figure="dead"]')).to_have_text("1")

    # And the first tab, never reloaded, shows the dead count fall to 1 and the message back on the queue
    expect(row.locator('[data-figure="dead"]')).to_have_text("1", timeout=15_000)
    expect(row.locator('[data-figure="ready"]')).to_have_text("1")
    watching.screenshot(path=str(screenshot_path("ops-desktop.png")), full_page=True)

    # When the last one is purged, through the confirmation page
    acting.get_by_role("link", name="Purge all…").click()
    acting.get_by_role("button", name="Yes, purge 1").click()

    # Then no dead letter is left, here and live in the first tab
    expect(acting.get_by_role("status")).to_have_text("1 dead letter(s) purged.")
    expect(row.locator('[data-figure="dead"]')).to_have_text("0", timeout=15_000)
    phone = browser.new_context(viewport={"width": 375, "height": 740}, storage_state=context.storage_state())
    small = phone.new_page()
    small.goto(f"{base}/ops")
    assert page_figures(small.content())[probe.queue]["dead"] == 0
    # And on a phone the page itself does not scroll sideways (wide tables scroll within their box)
    assert small.evaluate("document.documentElement.scrollWidth") <= 375
    small.screenshot(path=str(screenshot_path("ops-phone.png")), full_page=True)
    phone.close()
    context.close()
