"""What a tool page shows beyond the tool's own facts: its release timeline, its alternatives, when it last changed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.core.db.models import Entry, Evidence, Tool, Verdict
from services.core.domain import ToolState, VerdictState
from services.review.search import ToolHit

#: Alternatives shown on a tool page.
ALTERNATIVES = 5


@dataclass(frozen=True)
class Release:
    """One version (or the launch, ``version`` None) with the first time any source showed it."""

    version: str | None
    seen_at: dt.datetime
    title: str
    url: str | None
    sources: list[str]


def _version_key(version: str | None) -> str:
    """Versions written alike are one: "v1.2.0", "V1.2.0 " and "1.2.0" are all "1.2.0"."""
    return (version or "").strip().lower().removeprefix("v")


def timeline(session: Session, tool_id: int) -> list[Release]:
    """Every version and launch of the tool its evidence shows, across all sources, newest first.

    A version seen on several sources (GitHub releases, a changelog, the Hub, a vendor post) is one
    release dated by its earliest sighting (the entry's publication date, else when we stored it), with
    each source's host once, earliest first; the title and link are the earliest sighting's.
    """
    rows = session.execute(
        select(Evidence, Entry.published_at).outerjoin(Entry, Entry.id == Evidence.entry_id)
        .where(Evidence.tool_id == tool_id)).all()
    sightings = sorted(((published or evidence.created_at, evidence) for evidence, published in rows),
                       key=lambda pair: (pair[0], pair[1].id))
    releases: dict[str, Release] = {}
    for seen_at, evidence in sightings:
        key = _version_key(evidence.version)
        host = urlsplit(evidence.source_url).hostname or evidence.source_url
        if key not in releases:
            releases[key] = Release(evidence.version.strip() if evidence.version else None, seen_at,
                                    evidence.title, evidence.url, [host])
        elif host not in releases[key].sources:
            releases[key].sources.append(host)
    return list(reversed(releases.values()))  # first sightings were added oldest first


def alternatives(session: Session, tool: Tool, limit: int = ALTERNATIVES) -> list[ToolHit]:
    """Other approved tools of ``tool``'s category with a completed verdict, the highest panel ship % first
    (then by name); none for a tool without a category."""
    if not tool.category:
        return []
    return [ToolHit(other.slug, other.name, other.tagline, other.category, ship) for other, ship in session.execute(
        select(Tool, Verdict.ship_percent).join(Verdict, Verdict.tool_id == Tool.id)
        .where(Tool.category == tool.category, Tool.state == ToolState.APPROVED, Tool.id != tool.id,
               Verdict.state == VerdictState.COMPLETED)
        .order_by(Verdict.ship_percent.desc(), Tool.name).limit(limit))]


def last_updated(session: Session, tool: Tool) -> dt.datetime | None:
    """The latest of the tool's newest evidence and its verdict's completion; None when it has neither."""
    evidence = session.scalar(select(Evidence.created_at).where(Evidence.tool_id == tool.id)
                              .order_by(Evidence.created_at.desc()).limit(1))
    verdict = session.scalar(select(Verdict.completed_at).where(Verdict.tool_id == tool.id))
    moments = [moment for moment in (evidence, verdict) if moment is not None]
    return max(moments) if moments else None
