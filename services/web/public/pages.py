"""Public pages: the index of comparisons, a comparison, a tool."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from services.core import links
from services.review import comparisons, tool_profile
from services.web.db import DbSession
from services.web.public import og_image, structured_data
from services.web.rendering import page

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
def index(request: Request, session: DbSession) -> HTMLResponse:
    views = comparisons.views(session, comparisons.published(session))
    return page(request, "index.html", comparisons=views, canonical=links.index(request.app.state.runtime.settings))


@router.get(links.COMPARISON_PATH + "{slug}", response_class=HTMLResponse)
def comparison_page(request: Request, slug: str, session: DbSession) -> HTMLResponse:
    """A published comparison; 404 (``ComparisonNotFound``) for any other slug."""
    view = comparisons.view(session, comparisons.published_by_slug(session, slug))
    settings = request.app.state.runtime.settings
    return page(request, "comparison.html", c=view, canonical=links.comparison(settings, view.slug),
                json_ld=structured_data.comparison_page(settings, view), og_image=og_image.image_url(settings, view))


@router.get(links.TOOL_PATH + "{slug}", response_class=HTMLResponse)
def tool_page(request: Request, slug: str, session: DbSession) -> HTMLResponse:
    """An approved tool's page; 404 (``ToolNotFound``) for any other slug."""
    found = tool_profile.profile(session, slug)
    tool, settings = found.tool, request.app.state.runtime.settings
    return page(request, "tool.html", profile=found, tool=tool, canonical=links.tool(settings, tool.slug),
                json_ld=structured_data.tool_page(settings, tool.slug, tool.name, tool.category, tool.entry_price))
