"""Feeds of our own: published comparisons as Atom and JSON Feed 1.1, and the digest archive as JSON Feed 1.1.

Atom is RFC 4287; JSON Feed 1.1 is https://www.jsonfeed.org/version/1.1/ (``version``, ``title`` and
``items``, each with ``id`` and ``content_html`` or ``content_text``, are required).
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session

from services.core import links
from services.core.db.base import utcnow
from services.core.settings import Settings
from services.digest import archive
from services.review import comparisons
from services.review.comparisons import ComparisonView
from services.web.db import DbSession

router = APIRouter()
ATOM = "application/atom+xml; charset=utf-8"
JSON_FEED = "application/feed+json; charset=utf-8"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
#: The newest published comparisons a feed carries.
FEED_LIMIT = 20
TITLE = "Verdicts: AI tools, judged in pairs"
DESCRIPTION = "A panel of reviewers calls ship or skip on new AI tools, two at a time."


def rfc3339(moment: dt.datetime | None) -> str:
    """``moment`` (UTC; now when None) as RFC 3339 to the second with a ``Z``, as both feed formats want."""
    return (moment or utcnow()).astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _published(session: Session) -> list[tuple[ComparisonView, str]]:
    """The newest published comparisons as views, each with its publication time (RFC 3339)."""
    listed = comparisons.published(session, FEED_LIMIT)
    views = comparisons.views(session, listed)
    return [(view, rfc3339(c.published_at)) for view, c in zip(views, listed, strict=True)]


def _item_html(request: Request, view: ComparisonView) -> str:
    return str(request.app.state.templates.env.get_template("_comparison_feed_item.html").render(c=view))


@router.get(links.COMPARISONS_FEED_PATH + ".atom")
def comparisons_atom(request: Request, session: DbSession) -> Response:
    settings = request.app.state.runtime.settings
    items = [(view, published, _item_html(request, view)) for view, published in _published(session)]
    return request.app.state.templates.TemplateResponse(request, "comparisons.atom.xml", {
        "items": items, "updated": items[0][1] if items else rfc3339(None), "base": settings.public_url,
        "title": TITLE, "description": DESCRIPTION, "comparison_url": lambda slug: links.comparison(settings, slug)},
        media_type=ATOM)


def _json_feed(settings: Settings, title: str, description: str, home: str, feed_path: str,
               items: list[dict[str, object]]) -> JSONResponse:
    return JSONResponse({
        "version": JSON_FEED_VERSION, "title": title, "description": description, "home_page_url": home,
        "feed_url": f"{settings.public_url}{feed_path}", "language": "en",
        "authors": [{"name": "Verdicts", "url": links.index(settings)}], "items": items}, media_type=JSON_FEED)


@router.get(links.COMPARISONS_FEED_PATH + ".json")
def comparisons_json(request: Request, session: DbSession) -> JSONResponse:
    settings = request.app.state.runtime.settings
    items = []
    for view, published in _published(session):
        url = links.comparison(settings, view.slug)
        items.append({"id": url, "url": url, "title": view.title, "summary": view.headline,
                      "content_html": _item_html(request, view), "date_published": published,
                      "tags": [view.category] if view.category else []})
    return _json_feed(settings, TITLE, DESCRIPTION, links.index(settings), links.COMPARISONS_FEED_PATH + ".json",
                      items)


@router.get(links.ARCHIVE_PATH + ".json")
def archive_json(request: Request, session: DbSession) -> JSONResponse:
    settings = request.app.state.runtime.settings
    entries = [archive.entry(settings, d) for d in archive.sent(session, archive.FEED_LIMIT)]
    items = [{"id": e.url, "url": e.url, "title": e.subject, "summary": e.preheader or e.subject,
              "content_html": str(request.app.state.templates.env.get_template("_archive_feed_item.html").render(e=e)),
              "date_published": e.sent_at} for e in entries]
    return _json_feed(settings, "Verdicts: the weekly digest",
                      "Every week the panel pits two new AI tools against each other.", links.archive(settings),
                      links.ARCHIVE_PATH + ".json", items)
