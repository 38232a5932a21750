"""The digest as mail clients get it: size, images, links, preheader, plain text, narrow and wide screens."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from services.core import links
from services.core.db.models import Digest
from services.core.domain import Call
from services.core.runtime import Runtime
from services.digest import compose
from services.mail import placeholders
from services.review import votes
from tests import factories
from tests.browser import screenshot_path

WEEK = "2026-W48"
GMAIL_CLIP_BYTES = 102 * 1024
#: A per-recipient marker left in the rendered digest (``[[unsubscribe_url]]``, ``[[vote_3_ship]]``).
MARKER = re.compile(r"\[\[[a-z0-9_]+\]\]")
LOGO = "https://verdicts.example.org/static/logo.png"
LOGO_SVG = ('<svg xmlns="http://www.w3.org/2000/svg" width="240" height="80">'
            '<rect width="240" height="80" fill="#111827"/></svg>')
DUELS = [("Atlas Coder", "Borealis IDE"), ("Cirrus Chat", "Dynamo Assist"), ("Ember Notes", "Fjord Writer"),
         ("Gale Vision", "Helix Lens"), ("Ion Search", "Jet Answers"), ("Kite Agents", "Lumen Flows")]


class _Tags(HTMLParser):
    """Collects every <img> and every <a href> of a document."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[dict[str, str | None]] = []
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.images.append(dict(attrs))
        if tag == "a":
            self.hrefs.append(dict(attrs).get("href") or "")


@pytest.fixture
def six_comparisons(rt: Runtime) -> Digest:
    """A digest of six comparisons (one side already voted on), with a logo image, compiled for the week."""
    settings = rt.settings.model_copy(update={"email_logo_url": LOGO})
    with rt.sessions() as session, session.begin():
        duels = [factories.published_comparison(session, a, b) for a, b in DUELS]
        voter = factories.confirmed_subscriber(session, "voter@example.org")
        votes.cast(session, voter.id, duels[0].tool_a_id, Call.SHIP)
        digest = compose.compile_week(session, settings, WEEK)
        session.expunge(digest)
    return digest


def _personal(rt: Runtime, digest: Digest) -> str:
    """The HTML as one subscriber gets it: every marker swapped for a signed personal link."""
    subscriber_id = 1_234_567
    values = {placeholders.UNSUBSCRIBE: links.unsubscribe(rt.settings, subscriber_id),
              placeholders.PREFERENCES: links.preferences(rt.settings, subscriber_id)}
    for section in digest.sections:
        for side in section.get("sides", ()):
            for call in Call:
                values[placeholders.vote(side["tool_id"], call.value)] = links.ballot_vote(
                    rt.settings, subscriber_id, digest.id, side["tool_id"], call.value)
    return placeholders.fill(digest.html, values)


def test_six_comparisons_stay_under_gmails_clipping_size(rt: Runtime, six_comparisons: Digest) -> None:
    # Given the digest of six comparisons, rendered once
    digest = six_comparisons
    assert sum(s["kind"] == "comparison" for s in digest.sections) == 6
    # Then the shared HTML and a subscriber's copy both stay under 102 KB
    assert len(digest.html.encode("utf-8")) < GMAIL_CLIP_BYTES
    personal = _personal(rt, digest)
    assert MARKER.findall(personal) == []
    assert len(personal.encode("utf-8")) < GMAIL_CLIP_BYTES


def test_every_image_has_alt_text_and_a_width(six_comparisons: Digest) -> None:
    digest = six_comparisons
    tags = _Tags()
    tags.feed(digest.html)
    assert [image["src"] for image in tags.images] == [LOGO]
    for image in tags.images:
        assert image.get("alt"), image
        assert (image.get("width") or "").isdigit(), image


def test_every_link_is_absolute_https_or_a_personal_placeholder(six_comparisons: Digest) -> None:
    digest = six_comparisons
    tags = _Tags()
    tags.feed(digest.html)
    assert len(tags.hrefs) > 30
    for href in tags.hrefs:
        assert href.startswith("https://") or MARKER.fullmatch(href), href
    assert placeholders.UNSUBSCRIBE in tags.hrefs and placeholders.PREFERENCES in tags.hrefs


def test_the_preheader_is_set_and_hidden_at_the_top(six_comparisons: Digest) -> None:
    digest = six_comparisons
    assert digest.preheader.startswith("This week: 6 new comparisons")
    body = digest.html[digest.html.index("<body"):]
    first_div = body[body.index("<div"):body.index("</div>")]
    assert "display:none" in first_div and digest.preheader.replace("'", "&#39;") in first_div


def test_the_plain_text_carries_the_same_comparisons_and_links(six_comparisons: Digest) -> None:
    digest = six_comparisons
    tags = _Tags()
    tags.feed(digest.html)
    for a, b in DUELS:
        assert f"{a} vs {b}" in digest.text
    missing = sorted({href for href in tags.hrefs} - set(digest.text.split()))
    assert missing == []


@pytest.mark.browser
@pytest.mark.parametrize("width", [375, 650])
def test_the_mail_fits_the_screen_without_horizontal_scrolling(rt: Runtime, six_comparisons: Digest, browser,  # noqa: ANN001
                                                                width: int) -> None:
    digest = six_comparisons
    # Given the mail opened in Chromium at a phone's and a desktop mail pane's width
    context = browser.new_context(viewport={"width": width, "height": 900})
    try:
        page = context.new_page()
        page.route(LOGO, lambda route: route.fulfill(status=200, content_type="image/svg+xml", body=LOGO_SVG))
        page.route("**/*", lambda route: route.abort() if route.request.url != LOGO else route.fallback())
        page.set_content(_personal(rt, digest), wait_until="load")
        # Then nothing is wider than the screen
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= width
        assert page.evaluate("document.images[0].naturalWidth") == 240
        page.screenshot(path=str(screenshot_path(f"digest-{width}px.png")), full_page=True)
    finally:
        context.close()
