"""Public pages: the index of comparisons, a comparison, a tool."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from services.core import links
from services.core.db.models import Comparison, PanelSeat, Scorecard, Tool, Verdict
from services.core.domain import ComparisonState, ToolState, VerdictState
from services.review import comparisons, tool_profile
from services.review.votes import community_percent
from services.web.db import DbSession
from services.web.public import og_image, structured_data
from services.web.rendering import message, page

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
def index(request: Request, session: DbSession) -> HTMLResponse:
    views = [comparisons.view(session, c) for c in comparisons.published(session)]
    return page(request, "index.html", comparisons=views, base_url=request.app.state.runtime.settings.public_url)


@router.get(links.COMPARISON_PATH + "{slug}", response_class=HTMLResponse)
def comparison_page(request: Request, slug: str, session: DbSession) -> HTMLResponse:
    found = comparisons.by_slug(session, slug)
    if found is None or found.state != ComparisonState.PUBLISHED:
        return message(request, "Not found", "No comparison by that name.", 404)
    view = comparisons.view(session, found)
    settings = request.app.state.runtime.settings
    return page(request, "comparison.html", c=view, base_url=settings.public_url,
                json_ld=structured_data.comparison_page(settings, view), og_image=og_image.image_url(settings, view))


@router.get(links.TOOL_PATH + "{slug}", response_class=HTMLResponse)
def tool_page(request: Request, slug: str, session: DbSession) -> HTMLResponse:
    tool = session.scalar(select(Tool).where(Tool.slug == slug, Tool.state == ToolState.APPROVED))
    if tool is None:
        return message(request, "Not found", "No tool by that name.", 404)
    verdict = session.scalar(select(Verdict).where(Verdict.tool_id == tool.id))
    cards = []
    if verdict is not None and verdict.state == VerdictState.COMPLETED:
        cards = list(session.scalars(select(Scorecard).join(PanelSeat, PanelSeat.id == Scorecard.seat_id)
                                     .where(Scorecard.verdict_id == verdict.id)
                                     .options(selectinload(Scorecard.seat)).order_by(PanelSeat.position)))
    pairs = list(session.scalars(
        select(Comparison).where(Comparison.state == ComparisonState.PUBLISHED,
                                 or_(Comparison.tool_a_id == tool.id, Comparison.tool_b_id == tool.id))
        .options(selectinload(Comparison.tool_a), selectinload(Comparison.tool_b))
        .order_by(Comparison.published_at.desc()).limit(20)))
    community = community_percent(session, [tool.id])[tool.id]
    settings = request.app.state.runtime.settings
    return page(request, "tool.html", tool=tool, verdict=verdict, community=community, cards=cards, pairs=pairs,
                base_url=settings.public_url, releases=tool_profile.timeline(session, tool.id),
                alternatives=tool_profile.alternatives(session, tool),
                last_updated=tool_profile.last_updated(session, tool),
                json_ld=structured_data.tool_page(settings, tool.slug, tool.name, tool.category, tool.entry_price))
