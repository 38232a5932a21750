"""The digest preview in a real browser (Playwright on Debian's Chromium) against a live server:
an editor writes an intro, moves a section, sees both frames follow, and the page fits a phone."""

from __future__ import annotations

import pytest

from services.core.runtime import Runtime
from services.digest import compose
from tests import factories
from tests.browser import screenshot_path
from tests.web.conftest import PASSWORD, add_user

WEEK = "2026-W48"


@pytest.mark.browser
def test_an_editor_shapes_the_digest_in_the_preview(site: tuple[Runtime, str], browser) -> None:  # noqa: ANN001
    rt, base = site
    # Given a draft digest of two comparisons and a signed-in editor
    with rt.sessions() as session, session.begin():
        factories.published_comparison(session, "Alpha", "Beta")
        factories.published_comparison(session, "Gamma", "Delta")
        compose.compile_week(session, rt.settings, WEEK)
    add_user(rt, "editor@example.org", "editor")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.goto(f"{base}/login")
        page.fill("input[name=email]", "editor@example.org")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]:has-text('Sign in')")
        # When the editor writes an intro and moves "Gamma vs Delta" up, on the preview page
        page.goto(f"{base}/editor/digests/{WEEK}")
        page.fill("textarea[name=intro]", "Two duels this week.")
        page.click("button:has-text('Save')")
        page.click("button[aria-label='Move Gamma vs Delta up']")
        # Then both frames show the mail with the intro, Gamma vs Delta first
        assert page.locator("p.flash").inner_text() == "Section moved."
        for title in ("Desktop preview", "Phone preview"):
            frame = page.frame_locator(f"iframe[title='{title}']")
            body = frame.locator("body").inner_text()
            assert "Two duels this week." in body
            cards = body.split("Read it on the web", 1)[1]  # below the subject, which keeps its words
            assert cards.index("Gamma vs Delta") < cards.index("Alpha vs Beta")
        text = page.locator("pre.text").inner_text()
        assert text.index("== Gamma vs Delta") < text.index("== Alpha vs Beta")
        page.screenshot(path=str(screenshot_path("digest-preview-desktop.png")), full_page=True)
        # And on a phone the page fits the screen
        page.set_viewport_size({"width": 375, "height": 800})
        page.reload()
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        page.screenshot(path=str(screenshot_path("digest-preview-phone.png")), full_page=True)
    finally:
        context.close()
