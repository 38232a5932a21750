"""What goes into a digest: sections built from the database, stored as JSON on the digest row.

Each section has an ``id`` (stable, used to reorder) and a ``kind``: ``comparison`` (one
published comparison), ``new_tools`` (approved tools since the last digest) or ``community``
(last week's subscriber votes). Vote links are placeholders, filled per recipient at delivery.

Each section also carries ``topics``: the topics (``services.core.topics``) of the tools it shows, from
their categories (a comparison's own category too), which decide who gets it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from services.core import links, topics
from services.core.db.models import Comparison, Digest, Tool, Verdict, Vote
from services.core.domain import Call, ComparisonState, ToolState, ship_percent
from services.core.settings import Settings
from services.mail import placeholders

NEW_TOOLS_LIMIT = 8
COMMUNITY_LIMIT = 5
Section = dict[str, Any]


def percent(value: int | None) -> str:
    return "—" if value is None else f"{value}%"


def unmailed_comparisons(session: Session) -> list[Comparison]:
    """Published comparisons no digest has carried yet, in the editors' order."""
    return list(session.scalars(
        select(Comparison)
        .where(Comparison.state == ComparisonState.PUBLISHED, Comparison.mailed_in_digest_id.is_(None))
        .order_by(Comparison.position, Comparison.published_at, Comparison.id)
    ))


def comparison_section(session: Session, settings: Settings, comparison: Comparison) -> Section:
    return {
        "id": f"comparison-{comparison.id}",
        "kind": "comparison",
        "comparison_id": comparison.id,
        "title": f"{comparison.tool_a.name} vs {comparison.tool_b.name}",
        "url": links.comparison(settings, comparison.slug),
        "category": comparison.category,
        "topics": topics.section_topics([comparison.category, comparison.tool_a.category, comparison.tool_b.category]),
        "editor_note": comparison.editor_note,
        "sides": [_side(session, settings, comparison.tool_a), _side(session, settings, comparison.tool_b)],
    }


def _side(session: Session, settings: Settings, tool: Tool) -> dict[str, Any]:
    verdict = session.scalar(select(Verdict).where(Verdict.tool_id == tool.id))
    calls = list(session.scalars(select(Vote.call).where(Vote.tool_id == tool.id)))
    community = ship_percent(sum(c == Call.SHIP for c in calls), len(calls))
    return {
        "tool_id": tool.id,
        "name": tool.name,
        "tagline": tool.tagline,
        "entry_price": tool.entry_price,
        "panel": percent(verdict.ship_percent if verdict else None),
        "community": percent(community),
        "url": links.tool(settings, tool.slug),
        "vote_ship": placeholders.vote(tool.id, Call.SHIP),
        "vote_skip": placeholders.vote(tool.id, Call.SKIP),
    }


def new_tools_section(session: Session, settings: Settings, since: dt.datetime, until: dt.datetime) -> Section | None:
    """Tools approved in ``[since, until)``; None when there are none."""
    tools = list(session.scalars(
        select(Tool)
        .where(Tool.state == ToolState.APPROVED, Tool.decided_at >= since, Tool.decided_at < until)
        .order_by(Tool.decided_at.desc(), Tool.id.desc()).limit(NEW_TOOLS_LIMIT)
    ))
    if not tools:
        return None
    return {"id": "new_tools", "kind": "new_tools", "title": "New this week",
            "topics": topics.section_topics(t.category for t in tools),
            "tools": [{"name": t.name, "tagline": t.tagline, "url": links.tool(settings, t.slug)} for t in tools]}


def community_section(session: Session, settings: Settings, since: dt.datetime, until: dt.datetime) -> Section | None:
    """Subscriber votes cast (or changed) in ``[since, until)``, the most voted tools first."""
    ships = func.sum(case((Vote.call == Call.SHIP, 1), else_=0))
    rows = session.execute(
        select(Tool.name, Tool.slug, func.count(Vote.id), ships, Tool.category)
        .join(Vote, Vote.tool_id == Tool.id)
        .where(Vote.updated_at >= since, Vote.updated_at < until)
        .group_by(Tool.id, Tool.name, Tool.slug, Tool.category)
        .order_by(func.count(Vote.id).desc(), Tool.name)
        .limit(COMMUNITY_LIMIT)
    ).all()
    if not rows:
        return None
    return {"id": "community", "kind": "community", "title": "Last week's community votes",
            "topics": topics.section_topics(category for *_counts, category in rows),
            "results": [{"name": name, "url": links.tool(settings, slug), "votes": int(total),
                         "ship": percent(ship_percent(int(shipped or 0), int(total)))}
                        for name, slug, total, shipped, _category in rows]}


def previous_compile_time(session: Session, before_week: str) -> dt.datetime | None:
    """When the digest before this week's was compiled: new tools are counted from then."""
    return session.scalar(select(func.max(Digest.compiled_at)).where(Digest.week < before_week))


def comparisons_of(sections: list[Section]) -> list[Section]:
    return [s for s in sections if s["kind"] == "comparison"]
