"""Compiling the weekly digest: one per ISO week, from published comparisons not yet carried."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.core import events, links
from services.core.db.base import utcnow
from services.core.db.models import Comparison, Digest, Tool, Verdict, Vote
from services.core.domain import (
    Call,
    ComparisonState,
    DigestState,
    ToolState,
    parse_iso_week,
    ship_percent,
)
from services.core.settings import Settings
from services.digest import placeholders
from services.digest.render import EmailRenderer

NEW_TOOLS_LIMIT = 8


def _percent(value: int | None) -> str:
    return "—" if value is None else f"{value}%"


def _side(session: Session, settings: Settings, tool: Tool) -> dict[str, Any]:
    verdict = session.scalar(select(Verdict).where(Verdict.tool_id == tool.id))
    calls = list(session.scalars(select(Vote.call).where(Vote.tool_id == tool.id)))
    community = ship_percent(sum(c == Call.SHIP.value for c in calls), len(calls))
    return {
        "tool_id": tool.id,
        "name": tool.name,
        "tagline": tool.tagline,
        "entry_price": tool.entry_price,
        "panel": _percent(verdict.ship_percent if verdict else None),
        "community": _percent(community),
        "url": links.tool(settings, tool.slug),
        "vote_ship": placeholders.vote(tool.id, Call.SHIP.value),
        "vote_skip": placeholders.vote(tool.id, Call.SKIP.value),
    }


def comparison_section(session: Session, settings: Settings, comparison: Comparison) -> dict[str, Any]:
    return {
        "comparison_id": comparison.id,
        "title": f"{comparison.tool_a.name} vs {comparison.tool_b.name}",
        "url": links.comparison(settings, comparison.slug),
        "category": comparison.category,
        "editor_note": comparison.editor_note,
        "sides": [_side(session, settings, comparison.tool_a), _side(session, settings, comparison.tool_b)],
    }


def compile_week(session: Session, settings: Settings, week: str, *, force: bool = False) -> Digest | None:
    """The digest of ``week``, compiling it if there is none yet; None for an empty week unless forced."""
    existing = session.scalar(select(Digest).where(Digest.week == week))
    if existing is not None:
        return existing
    monday = dt.datetime.combine(parse_iso_week(week), dt.time(), dt.timezone.utc)
    comparisons = list(session.scalars(
        select(Comparison)
        .where(Comparison.state == ComparisonState.PUBLISHED.value, Comparison.mailed_in_digest_id.is_(None))
        .order_by(Comparison.position, Comparison.published_at)
    ))
    new_tools = list(session.scalars(
        select(Tool).where(Tool.state == ToolState.APPROVED.value, Tool.decided_at >= monday - dt.timedelta(days=7),
                           Tool.decided_at < monday + dt.timedelta(days=7))
        .order_by(Tool.decided_at.desc()).limit(NEW_TOOLS_LIMIT)
    ))
    if not comparisons and not new_tools and not force:
        return None
    sections = [{"kind": "comparison", **comparison_section(session, settings, c)} for c in comparisons]
    sections += [{"kind": "new_tool", "name": t.name, "tagline": t.tagline, "url": links.tool(settings, t.slug)}
                 for t in new_tools]
    lead = comparisons[0] if comparisons else None
    subject = f"{lead.tool_a.name} vs {lead.tool_b.name} — and more" if lead else f"Verdicts, week {week}"
    digest = Digest(week=week, subject=subject[:300], preheader=f"This week's verdicts from the panel ({week})",
                    sections=sections)
    try:
        with session.begin_nested():
            session.add(digest)
            session.flush()
    except IntegrityError:
        return session.scalar(select(Digest).where(Digest.week == week))
    for comparison in comparisons:
        comparison.mailed_in_digest_id = digest.id
    render_digest(settings, digest)
    events.record(session, "digest.compiled", digest_id=digest.id, week=week)
    return digest


def render_digest(settings: Settings, digest: Digest) -> None:
    """Render once, with per-recipient markers in place of unsubscribe, preferences and vote links."""
    rendered = EmailRenderer(settings.email_templates_dir).render("digest", digest_context(settings, digest))
    digest.html, digest.text = rendered.html, rendered.text


def digest_context(settings: Settings, digest: Digest) -> dict[str, Any]:
    return {
        "week": digest.week,
        "subject": digest.subject,
        "preheader": digest.preheader,
        "intro": digest.intro,
        "comparisons": [s for s in digest.sections if s["kind"] == "comparison"],
        "new_tools": [s for s in digest.sections if s["kind"] == "new_tool"],
        "unsubscribe_url": placeholders.UNSUBSCRIBE,
        "preferences_url": placeholders.PREFERENCES,
        "postal_address": settings.postal_address,
    }


def approve(session: Session, digest_id: int) -> Digest:
    digest = session.get(Digest, digest_id)
    if digest is None:
        raise ValueError(f"no digest with id {digest_id}")
    if digest.state == DigestState.DRAFT.value:
        digest.state = DigestState.APPROVED.value
        digest.approved_at = utcnow()
        events.record(session, "digest.approved", digest_id=digest.id)
    return digest


def by_week(session: Session, week: str) -> Digest | None:
    return session.scalar(select(Digest).where(Digest.week == week))
