"""The whole editorial path in a real browser (Playwright on Debian's Chromium) against a live server:
sign in → approve with edits → each panel seat calls → the verdict completes → publish a comparison →
the public page shows both tools' percentages → a subscriber votes through a signed link → community % moves.
"""

from __future__ import annotations

from services.core import links
from services.core.db.models import Tool
from services.core.domain import Call
from services.core.runtime import Runtime
from services.review import panel
from tests import factories
from tests.browser import screenshot_path
from tests.web.conftest import PASSWORD, add_user

CALLS = {"builder": ("ship", "Clean API, ran first try."), "skeptic": ("skip", "Benchmarks are self-reported."),
         "strategist": ("ship", "Fills a real gap."), "buyer": ("ship", "$20/mo is fair for a team.")}


def _sign_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]:has-text('Sign in')")


def test_from_candidate_to_community_vote_in_a_browser(site: tuple[Runtime, str], browser) -> None:
    rt, base = site
    # Given a candidate, an already judged tool in the same category, an editor, four reviewers and a reader
    with rt.sessions() as session, session.begin():
        panel.ensure_seats(session)
        candidate_id = factories.candidate(session, "nimbus coder beta").id
        factories.judged_tool(session, "Orbit Serve", (Call.SHIP, Call.SHIP, Call.SKIP, Call.SKIP))
        reader_id = factories.confirmed_subscriber(session, "reader@example.org").id
    add_user(rt, "editor@example.org", "editor")
    for lens in CALLS:
        add_user(rt, f"{lens}@example.org", "reviewer", lens=lens)

    # When the editor signs in and approves the candidate with edits, using the keyboard to open the form
    editor = browser.new_context(viewport={"width": 1280, "height": 900})
    page = editor.new_page()
    _sign_in(page, base, "editor@example.org")
    page.wait_for_url(f"{base}/editor/queue")
    card = page.locator(f"article.candidate[data-id='{candidate_id}']")
    assert "current" in (card.get_attribute("class") or "")
    page.keyboard.press("a")
    assert card.locator("input[name=name]").evaluate("el => el === document.activeElement")
    card.locator("input[name=name]").fill("Nimbus Coder")
    card.locator("input[name=category]").fill("Developer Tools")
    card.locator("input[name=tagline]").fill("A coding agent that pairs with you")
    card.locator("input[name=entry_price]").fill("$20/mo")
    card.locator("textarea[name=description]").fill("Writes, runs and fixes code in your repository.")
    card.locator("button:has-text('Approve')").click()
    assert "Nimbus Coder: approved" in page.inner_text(".flash")

    # And each panel seat signs in and calls from its to-do list
    for lens, (call, quote) in CALLS.items():
        reviewer = browser.new_context()
        rpage = reviewer.new_page()
        _sign_in(rpage, base, f"{lens}@example.org")
        rpage.wait_for_url(f"{base}/editor/panel")
        todo = rpage.locator("article.todo", has_text="Nimbus Coder")
        todo.locator(f"input[value={call}]").check()
        todo.locator("textarea[name=quote]").fill(quote)
        todo.locator("button[type=submit]").click()
        flash = rpage.inner_text(".flash")
        reviewer.close()
    # Then the last call completes the verdict
    assert "The verdict is complete" in flash

    # When the editor creates the suggested comparison, edits it and publishes it
    page.goto(f"{base}/editor/comparisons")
    page.locator("table.suggestions tr", has_text="Nimbus Coder").locator("button").click()
    page.fill("textarea[name=editor_note]", "Two ways to get code written for you.")
    page.click("button:has-text('Save')")
    page.click("button:has-text('Publish')")
    assert "Published at /c/" in page.inner_text(".flash")
    public_path = page.inner_text(".flash").split("Published at ")[1].split(";")[0]
    editor.close()

    # Then the public page shows both tools with their panel percentages and no community share yet
    reader = browser.new_context(viewport={"width": 1280, "height": 900})
    public = reader.new_page()
    public.goto(base + public_path)
    nimbus, orbit = public.locator("section.tool[data-tool=nimbus-coder-beta]"), public.locator(
        "section.tool[data-tool=orbit-serve]")
    assert public.inner_text("h1") == "Nimbus Coder vs Orbit Serve"
    assert nimbus.locator(".panel-ship").inner_text() == "75%"
    assert orbit.locator(".panel-ship").inner_text() == "50%"
    assert nimbus.locator(".community").inner_text() == "—"
    assert nimbus.locator(".entry").inner_text() == "$20/mo"
    assert "Benchmarks are self-reported." in public.inner_text("table.scorecard")

    # When the subscriber follows their signed "ship" link and confirms
    public.goto(links.vote(rt.settings, reader_id, candidate_id, "ship"))
    assert "Confirm: Ship" in public.inner_text("section.vote")
    public.click("button:has-text('Confirm')")
    assert "Your vote is in" in public.inner_text("h1")

    # Then the community share on the comparison page changes to 100%
    public.goto(base + public_path)
    assert public.locator("section.tool[data-tool=nimbus-coder-beta] .community").inner_text() == "100%"
    public.screenshot(path=str(screenshot_path("comparison-1280.png")), full_page=True)
    phone = browser.new_context(viewport={"width": 375, "height": 812}, device_scale_factor=2, is_mobile=True)
    small = phone.new_page()
    small.goto(base + public_path)
    assert small.evaluate("document.documentElement.scrollWidth") <= 375  # nothing wider than the phone
    small.screenshot(path=str(screenshot_path("comparison-375.png")), full_page=True)
    phone.close()
    reader.close()
    assert screenshot_path("comparison-375.png").stat().st_size > 0
    assert screenshot_path("comparison-1280.png").stat().st_size > 0


def test_keyboard_triage_moves_with_j_and_k_and_acts_with_r_m_and_s(site: tuple[Runtime, str], browser) -> None:
    rt, base = site
    # Given three candidates (newest first: Third, Second, First) and a signed-in editor
    with rt.sessions() as session, session.begin():
        ids = [factories.candidate(session, name).id for name in ("First", "Second", "Third")]
    add_user(rt, "editor@example.org", "editor")
    context = browser.new_context()
    page = context.new_page()
    _sign_in(page, base, "editor@example.org")
    page.wait_for_url(f"{base}/editor/queue")

    def current() -> str:
        return page.locator("article.candidate.current h2").inner_text()

    # When the editor presses j, j, k
    assert current() == "Third"
    page.keyboard.press("j")
    page.keyboard.press("j")
    assert current() == "First"
    page.keyboard.press("k")
    # Then the selection moves down and up; r and m jump to the reason and merge fields of that card
    assert current() == "Second"
    page.keyboard.press("r")
    assert page.evaluate("document.activeElement.name") == "reason"
    page.keyboard.press("Escape")
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("m")
    assert page.evaluate("document.activeElement.name") == "into"
    page.evaluate("document.activeElement.blur()")
    # And s snoozes the current card: it leaves the queue
    page.keyboard.press("s")
    page.wait_for_selector(".flash")
    assert "Second: snoozed for 7 days" in page.inner_text(".flash")
    assert [h.inner_text() for h in page.locator("article.candidate h2").all()] == ["Third", "First"]
    with rt.sessions() as session:
        assert session.get(Tool, ids[1]).snoozed_until is not None
    context.close()
