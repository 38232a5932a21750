"""Every public page and the digest preview, in Chromium at a phone's and a desktop's width, in the light and
the dark colour scheme: axe-core finds no serious or critical violation, nothing scrolls sideways, and a
screenshot of each is written to tests/artifacts/pages/ (``<page>-<width>-<scheme>.png``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Page, Response

from services.core import links
from services.core.db.base import utcnow
from services.core.db.models import Evidence, Tool
from services.core.domain import EvidenceKind
from services.core.runtime import Runtime
from services.digest import compose
from tests import factories
from tests.browser import axe_source, blocking_violations, screenshot_path
from tests.web.conftest import PASSWORD, add_user

pytestmark = [pytest.mark.browser, pytest.mark.postgres]

WIDTHS = (375, 1280)
SCHEMES = ("light", "dark")
SENT_WEEK, DRAFT_WEEK = "2026-W47", "2026-W48"
#: One word with no break opportunity, and a long address: what overflows a phone's width if anything does.
LONG_NAME = "Hyperparameteroptimizationworkbenchforenterprisegradelanguagemodels"
LONG_URL = "https://downloads.example.org/releases/" + "nested-directory-name/" * 6 + "changelog.html"


@dataclass(frozen=True)
class Visit:
    """A page to check: its name (in messages and screenshot files), how to open it (giving the page's response),
    the HTTP status it answers with, whether an editor opens it."""

    name: str
    open: Callable[[Page], Response | None]
    status: int = 200
    editor: bool = False


def _seed(served: Runtime) -> list[Visit]:
    """A site with something on every page: a sent digest in the archive, a draft one to preview, tools with
    releases (one with a long name and a long release address), a confirmed reader with their links; the pages
    to visit (every public one, the sign-in page the header links to, and the digest preview)."""
    settings = served.settings
    with served.sessions() as session, session.begin():
        factories.published_comparison(session, "Alpha", "Beta")
        factories.sent_digest(session, settings, SENT_WEEK)
        long_pair = factories.published_comparison(session, "Gamma", LONG_NAME)
        compose.compile_week(session, settings, DRAFT_WEEK)
        alpha = session.query(Tool).filter_by(slug="alpha").one()
        long_tool = session.query(Tool).filter_by(name=LONG_NAME).one()
        session.add_all([
            Evidence(tool_id=alpha.id, source_url="https://github.com/acme/alpha/releases.atom", version="1.0",
                     url="https://github.com/acme/alpha/releases/tag/1.0", title="Alpha 1.0",
                     kind=EvidenceKind.UPDATE, created_at=utcnow() - dt.timedelta(days=30)),
            Evidence(tool_id=long_tool.id, source_url="https://downloads.example.org/feed", version="2.0.0-rc.1",
                     url=LONG_URL, title=f"Release notes at {LONG_URL}", kind=EvidenceKind.UPDATE)])
        reader = factories.confirmed_subscriber(session, "reader@example.org")
        pair_slug, long_slug = long_pair.slug, long_tool.slug
        reader_links = {"preferences": links.preferences(settings, reader.id),
                        "unsubscribe": links.unsubscribe(settings, reader.id),
                        "vote": links.vote(settings, reader.id, alpha.id, "ship")}
    add_user(served, "editor@example.org", "editor")
    base = settings.public_url.rstrip("/")

    def at(path: str) -> Callable[[Page], Response | None]:
        return lambda page: page.goto(path if path.startswith("http") else base + path)

    def subscribe(page: Page) -> Response | None:
        page.goto(base + "/")
        page.fill("input[name=email]", "new.reader@example.org")
        with page.expect_navigation() as answer:
            page.click("button:has-text('Subscribe')")
        return answer.value

    return [Visit("index", at("/")), Visit("comparison", at(f"/c/{pair_slug}")), Visit("tool", at("/t/alpha")),
            Visit("tool-long-name", at(f"/t/{long_slug}")), Visit("category", at("/category/developer-tools")),
            Visit("search", at("/search?q=alpha")), Visit("search-nothing", at("/search?q=nothingmatches")),
            Visit("archive", at("/archive")), Visit("archived-digest", at(f"/archive/{SENT_WEEK}")),
            Visit("subscribed", subscribe), Visit("preferences", at(reader_links["preferences"])),
            Visit("unsubscribe", at(reader_links["unsubscribe"])), Visit("vote", at(reader_links["vote"])),
            Visit("sign-in", at("/login")), Visit("not-found", at("/c/no-such-comparison"), status=404),
            Visit("digest-preview", at(f"/editor/digests/{DRAFT_WEEK}"), editor=True)]


@contextmanager
def _browsing(browser: Browser, base: str, width: int, scheme: str, editor: bool) -> Iterator[Page]:
    """A fresh page ``width`` px wide preferring ``scheme``; signed in as the editor when ``editor``."""
    context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
    try:
        page = context.new_page()
        if editor:
            page.goto(f"{base}/login")
            page.fill("input[name=email]", "editor@example.org")
            page.fill("input[name=password]", PASSWORD)
            with page.expect_navigation():
                page.click("button[type=submit]:has-text('Sign in')")
        yield page
    finally:
        context.close()


def _each_page(browser: Browser, base: str, visits: list[Visit], widths: tuple[int, ...],
               check: Callable[[Page, str], list[str]]) -> list[str]:
    """Open every visit at every width in both schemes, run ``check(page, label)`` on it once loaded; its findings."""
    found: list[str] = []
    for width in widths:
        for scheme in SCHEMES:
            for editor in (False, True):
                with _browsing(browser, base, width, scheme, editor) as page:
                    for visit in (v for v in visits if v.editor == editor):
                        response = visit.open(page)
                        page.wait_for_load_state("load")
                        assert response is not None and response.status == visit.status, (visit.name, response)
                        found += check(page, f"{visit.name}-{width}-{scheme}")
    return found


def test_every_public_page_and_the_digest_preview_pass_axe_in_both_colour_schemes(site, browser: Browser) -> None:
    served, base = site
    # Given a site with something on every public page, and axe-core
    visits, source = _seed(served), axe_source()
    # When axe checks each page at both widths, in the light and the dark scheme
    found = _each_page(browser, base, visits, WIDTHS,
                       lambda page, label: [f"{label}: {line}" for line in blocking_violations(page, source)])
    # Then nothing serious or critical is found
    assert not found, "axe-core found serious or critical violations:\n" + "\n".join(found)


def test_no_public_page_scrolls_sideways_at_375_or_1280_px_in_either_scheme(site, browser: Browser) -> None:
    served, base = site
    # Given a site with long names and addresses on its pages
    visits = _seed(served)

    def fits(page: Page, label: str) -> list[str]:
        page.screenshot(path=str(screenshot_path(f"pages/{label}.png")), full_page=True)
        wide, view = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        return [] if wide <= view else [f"{label}: {wide} px of content in a {view} px window"]

    # When each page is opened at a phone's and a desktop's width, in both schemes (and photographed)
    found = _each_page(browser, base, visits, WIDTHS, fits)
    # Then the document is never wider than the window
    assert not found, "pages scroll sideways:\n" + "\n".join(found)
