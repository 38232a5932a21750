"""A-vs-B comparisons of tools with completed verdicts, and the view of one for pages and mail."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.core import events
from services.core.db.base import utcnow
from services.core.db.models import Comparison, PanelSeat, Scorecard, Tool, Verdict
from services.core.domain import ComparisonState, VerdictState
from services.core.slugs import unique_slug
from services.review.votes import community_percent


class ComparisonError(ValueError):
    pass


@dataclass(frozen=True)
class ToolSide:
    id: int
    slug: str
    name: str
    vendor: str | None
    category: str | None
    tagline: str | None
    entry_price: str | None
    description: str | None
    homepage: str | None
    panel_ship_percent: int | None
    community_percent: int | None


@dataclass(frozen=True)
class ScorecardRow:
    lens: str
    a_call: str | None
    a_quote: str | None
    b_call: str | None
    b_quote: str | None


@dataclass(frozen=True)
class ComparisonView:
    id: int
    slug: str
    title: str
    headline: str
    category: str | None
    editor_note: str | None
    state: str
    a: ToolSide
    b: ToolSide
    scorecard: list[ScorecardRow]


def create(session: Session, tool_a_id: int, tool_b_id: int, headline: str | None = None,
           editor_note: str | None = None) -> Comparison:
    if tool_a_id == tool_b_id:
        raise ComparisonError("a comparison needs two different tools")
    tools = [session.get(Tool, tool_a_id), session.get(Tool, tool_b_id)]
    if None in tools:
        raise ComparisonError("both tools must exist")
    a, b = tools  # type: ignore[misc]
    for tool in (a, b):
        verdict = session.scalar(select(Verdict).where(Verdict.tool_id == tool.id))
        if verdict is None or verdict.state != VerdictState.COMPLETED.value:
            raise ComparisonError(f"{tool.name!r} has no completed verdict yet")
    title = f"{a.name} vs {b.name}"
    comparison = Comparison(slug=unique_slug(session, Comparison.slug, title), headline=headline or title,
                            tool_a_id=a.id, tool_b_id=b.id, category=a.category or b.category,
                            editor_note=editor_note)
    session.add(comparison)
    session.flush()
    return comparison


def publish(session: Session, comparison_id: int) -> Comparison:
    comparison = session.get(Comparison, comparison_id)
    if comparison is None:
        raise ComparisonError(f"no comparison with id {comparison_id}")
    if comparison.state != ComparisonState.PUBLISHED.value:
        comparison.state = ComparisonState.PUBLISHED.value
        comparison.published_at = utcnow()
        events.record(session, "comparison.published", comparison_id=comparison.id)
    return comparison


def published(session: Session, limit: int = 50) -> list[Comparison]:
    return list(session.scalars(
        select(Comparison).where(Comparison.state == ComparisonState.PUBLISHED.value)
        .order_by(Comparison.published_at.desc(), Comparison.id.desc()).limit(limit)
    ))


def view(session: Session, comparison: Comparison) -> ComparisonView:
    a, b = comparison.tool_a, comparison.tool_b
    verdicts = {v.tool_id: v for v in session.scalars(select(Verdict).where(Verdict.tool_id.in_([a.id, b.id])))}
    community = community_percent(session, [a.id, b.id])
    seats = list(session.scalars(select(PanelSeat).order_by(PanelSeat.position, PanelSeat.id)))
    cards: dict[tuple[int, int], Scorecard] = {}
    verdict_tool = {v.id: v.tool_id for v in verdicts.values()}
    if verdict_tool:
        for card in session.scalars(select(Scorecard).where(Scorecard.verdict_id.in_(verdict_tool))):
            cards[(verdict_tool[card.verdict_id], card.seat_id)] = card
    rows = []
    for seat in seats:
        ca, cb = cards.get((a.id, seat.id)), cards.get((b.id, seat.id))
        if ca or cb:
            rows.append(ScorecardRow(seat.lens, ca and ca.call, ca and ca.quote, cb and cb.call, cb and cb.quote))

    def side(tool: Tool) -> ToolSide:
        verdict = verdicts.get(tool.id)
        return ToolSide(tool.id, tool.slug, tool.name, tool.vendor, tool.category, tool.tagline, tool.entry_price,
                        tool.description, tool.homepage, verdict.ship_percent if verdict else None,
                        community[tool.id])

    return ComparisonView(comparison.id, comparison.slug, f"{a.name} vs {b.name}", comparison.headline,
                          comparison.category, comparison.editor_note, comparison.state, side(a), side(b), rows)


def by_slug(session: Session, slug: str) -> Comparison | None:
    return session.scalar(select(Comparison).where(Comparison.slug == slug))
