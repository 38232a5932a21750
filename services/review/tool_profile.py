"""What a tool page shows: the tool, its verdict and the panel's calls, its community ship %, the comparisons it
is in, its release timeline, its alternatives, when it last changed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from services.core.db.models import Comparison, Entry, Evidence, PanelSeat, Scorecard, Tool, Verdict
from services.core.domain import ComparisonState, ToolState, VerdictState
from services.review.errors import ToolNotFound
from services.review.search import ToolHit, listed_comparisons, tool_hit
from services.review.votes import community_percent

#: Alternatives shown on a tool page.
ALTERNATIVES = 5
#: Published comparisons of the tool shown on its page (the newest).
PAIRS = 20


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


@dataclass(frozen=True)
class Profile:
    """Everything a tool page shows; ``cards`` only once the verdict is complete, in seat order."""

    tool: Tool
    verdict: Verdict | None
    cards: list[Scorecard]
    community_percent: int | None
    pairs: list[Comparison]
    releases: list[Release]
    alternatives: list[ToolHit]
    last_updated: dt.datetime | None


def profile(session: Session, slug: str) -> Profile:
    """The profile of the approved tool ``slug`` names (see ``Profile``). Raises ``ToolNotFound`` when no
    approved tool has that slug."""
    tool = session.scalar(select(Tool).where(Tool.slug == slug, Tool.state == ToolState.APPROVED))
    if tool is None:
        raise ToolNotFound("No tool by that name.")
    verdict = session.scalar(select(Verdict).where(Verdict.tool_id == tool.id))
    cards = []
    if verdict is not None and verdict.state == VerdictState.COMPLETED:
        cards = list(session.scalars(select(Scorecard).join(PanelSeat, PanelSeat.id == Scorecard.seat_id)
                                     .where(Scorecard.verdict_id == verdict.id)
                                     .options(selectinload(Scorecard.seat)).order_by(PanelSeat.position)))
    pairs = listed_comparisons(session, Comparison.state == ComparisonState.PUBLISHED,
                               or_(Comparison.tool_a_id == tool.id, Comparison.tool_b_id == tool.id), limit=PAIRS)
    seen = _sightings(session, tool.id)
    return Profile(tool, verdict, cards, community_percent(session, [tool.id])[tool.id], pairs, _timeline(seen),
                   alternatives(session, tool), _last_updated(seen, verdict))


def _sightings(session: Session, tool_id: int) -> list[tuple[dt.datetime, Evidence]]:
    """Every piece of the tool's evidence with when it was first shown (its entry's publication date, else
    when we stored it), oldest first."""
    rows = session.execute(
        select(Evidence, Entry.published_at).outerjoin(Entry, Entry.id == Evidence.entry_id)
        .where(Evidence.tool_id == tool_id)).all()
    return sorted(((published or evidence.created_at, evidence) for evidence, published in rows),
                  key=lambda pair: (pair[0], pair[1].id))


def _timeline(sightings: list[tuple[dt.datetime, Evidence]]) -> list[Release]:
    """Every version and launch of the tool ``sightings`` (``_sightings``) show, across all sources, newest first.

    A version seen on several sources (GitHub releases, a changelog, the Hub, a vendor post) is one
    release dated by its earliest sighting, with each source's host once, earliest first; the title and
    link are the earliest sighting's.
    """
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
    return [tool_hit(other, ship) for other, ship in session.execute(
        select(Tool, Verdict.ship_percent).join(Verdict, Verdict.tool_id == Tool.id)
        .where(Tool.category == tool.category, Tool.state == ToolState.APPROVED, Tool.id != tool.id,
               Verdict.state == VerdictState.COMPLETED)
        .order_by(Verdict.ship_percent.desc(), Tool.name).limit(limit))]


def _last_updated(sightings: list[tuple[dt.datetime, Evidence]], verdict: Verdict | None) -> dt.datetime | None:
    """The latest of the newest evidence stored and the verdict's completion; None when there is neither."""
    moments = [evidence.created_at for _, evidence in sightings]
    if verdict is not None and verdict.completed_at is not None:
        moments.append(verdict.completed_at)
    return max(moments) if moments else None
