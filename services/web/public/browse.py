"""Browsing the public site: a category's tools and comparisons, and search over both."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from services.core import links
from services.review import categories, search
from services.web.db import DbSession
from services.web.rendering import message, page

router = APIRouter()


@router.get(links.CATEGORY_PATH + "{slug}", response_class=HTMLResponse)
def category_page(request: Request, slug: str, session: DbSession,
                  page_number: int = Query(1, alias="page")) -> HTMLResponse:
    found = categories.category_page(session, slug, page_number)
    if found is None:
        return message(request, "Not found", "No category by that name.", 404)
    canonical = links.category(request.app.state.runtime.settings, found.name)
    return page(request, "category.html", category=found, canonical=canonical)


@router.get(links.SEARCH_PATH, response_class=HTMLResponse)
def search_page(request: Request, session: DbSession, q: str = "") -> HTMLResponse:
    results = search.search(session, q[:search.MAX_QUERY])
    return page(request, "search.html", results=results)
