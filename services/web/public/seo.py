"""For search engines: /robots.txt and /sitemap.xml (a sitemap index of numbered pages past 50,000 addresses).

The sitemap follows https://www.sitemaps.org/protocol.html: at most 50,000 URLs a file, a sitemap index
pointing at the files when there are more; every address absolute and XML-escaped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import PlainTextResponse, Response
from sqlalchemy.orm import Session

from services.core import links
from services.core.settings import Settings
from services.core.slugs import slugify
from services.digest import archive
from services.review import sitemap
from services.web.db import DbSession

router = APIRouter()
XML = "application/xml; charset=utf-8"
#: The most URLs one sitemap file may hold (sitemaps.org).
SITEMAP_LIMIT = 50_000
#: Paths no crawler should visit: editor, ops, API and sign-in pages, and per-subscriber token links.
DISALLOWED = ("/editor/", "/ops", "/api/", "/login", links.UNSUBSCRIBE_PATH, links.PREFERENCES_PATH,
              links.VOTE_PATH, links.CONFIRM_PATH)

Url = tuple[str, dt.datetime | None]
#: A part of the sitemap: how many addresses it has, and a reader of ``limit`` of them from ``offset``.
Section = tuple[int, Callable[[int, int], list[Url]]]


@router.get(links.ROBOTS_PATH, response_class=PlainTextResponse)
def robots(request: Request) -> str:
    settings = request.app.state.runtime.settings
    rules = "".join(f"Disallow: {path}\n" for path in DISALLOWED)
    return f"User-agent: *\n{rules}\nSitemap: {settings.public_url}{links.SITEMAP_PATH}\n"


def _in_memory(urls: list[Url]) -> Section:
    return len(urls), lambda offset, limit: urls[offset:offset + limit]


def _sections(session: Session, settings: Settings) -> list[Section]:
    """Every public address in a stable order: the index, the archive and its weeks, the categories, the
    comparisons, the tools."""
    weeks = [(links.archive(settings, week), at) for week, at in archive.sent_weeks(session)]
    categories = {slugify(name): name for name in sitemap.category_names(session)}
    fixed = ([(links.index(settings), None), (links.archive(settings), weeks[0][1] if weeks else None)] + weeks
             + [(links.category(settings, name), None) for name in categories.values()])
    return [
        _in_memory(fixed),
        (sitemap.comparison_count(session), lambda offset, limit: [
            (links.comparison(settings, slug), at) for slug, at in sitemap.comparisons(session, offset, limit)]),
        (sitemap.tool_count(session), lambda offset, limit: [
            (links.tool(settings, slug), at) for slug, at in sitemap.tools(session, offset, limit)]),
    ]


def _page(sections: list[Section], page: int) -> list[Url]:
    """The addresses of sitemap page ``page`` (from 1): the ``SITEMAP_LIMIT`` after the earlier pages'."""
    start, end, seen, urls = (page - 1) * SITEMAP_LIMIT, page * SITEMAP_LIMIT, 0, []
    for count, read in sections:
        low, high = max(start, seen), min(end, seen + count)
        if low < high:
            urls += read(low - seen, high - low)
        seen += count
    return urls


def _xml(request: Request, template: str, **context: object) -> Response:
    return request.app.state.templates.TemplateResponse(request, template, context, media_type=XML)


@router.get(links.SITEMAP_PATH)
def sitemap_xml(request: Request, session: DbSession) -> Response:
    """One sitemap of every address, or past ``SITEMAP_LIMIT`` a sitemap index of numbered pages."""
    settings = request.app.state.runtime.settings
    sections = _sections(session, settings)
    total = sum(count for count, _ in sections)
    if total <= SITEMAP_LIMIT:
        return _xml(request, "sitemap.xml", urls=_page(sections, 1))
    pages = [settings.public_url + links.SITEMAP_PAGE_PATH.format(page=n)
             for n in range(1, -(-total // SITEMAP_LIMIT) + 1)]
    return _xml(request, "sitemap_index.xml", pages=pages)


@router.get(links.SITEMAP_PAGE_PATH.replace("{page}", "{page:int}"))
def sitemap_page(request: Request, page: int, session: DbSession) -> Response:
    urls = _page(_sections(session, request.app.state.runtime.settings), page) if page >= 1 else []
    if not urls:
        raise HTTPException(status_code=404, detail="No such sitemap page.")
    return _xml(request, "sitemap.xml", urls=urls)
