"""A digest's engagement report: who it went to, what came back, which links were followed, how the vote went.

Every figure is read from what processed webhook batches added up (``engagement_counters``) and from the send
ledger and the votes: the report itself never scans the events. Opens are shown only when settings'
``open_tracking`` is on: mail clients and privacy proxies fetch the tracking image without anyone reading
(Apple Mail Privacy Protection loads every message's images on delivery), so an open is not a reader.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from services.core.db.models import (
    DeliveryBatch,
    Digest,
    DigestEngagement,
    DigestEventCount,
    DigestLinkClick,
    Tool,
    Vote,
    WebhookBatch,
)
from services.core.domain import BatchState, Call, WebhookBatchState
from services.delivery.engagement_counters import KINDS
from services.delivery.errors import UnknownDigest

#: The chart covers this many hours from the send's start.
CHART_HOURS = 72
#: The report lists at most this many links, the most followed first.
LINKS_SHOWN = 50
OPENS_MISLEAD = ("Opens are off: mail clients and privacy proxies load the tracking image without anyone reading "
                 "(Apple Mail Privacy Protection fetches the images of every message it receives), so an open "
                 "says little about readers. Set VERDICTS_OPEN_TRACKING=true to show them anyway.")


@dataclass(frozen=True)
class LinkClicks:
    url: str
    clicks: int


@dataclass(frozen=True)
class ToolVotes:
    tool_id: int
    name: str
    slug: str
    ship: int
    skip: int


@dataclass(frozen=True)
class Report:
    """One digest's figures. ``counts`` has every kind of ``engagement_counters.KINDS`` (without ``open`` when
    open tracking is off); ``hourly`` maps each of those kinds to ``CHART_HOURS`` counts, hour 0 being the
    hour the send started (empty lists before it started)."""

    digest_id: int
    week: str
    subject: str
    state: str
    recipients: int
    counts: dict[str, int]
    unique_clickers: int
    open_tracking: bool
    unique_openers: int | None
    links: list[LinkClicks]
    votes: list[ToolVotes]
    started_at: dt.datetime | None
    hourly: dict[str, list[int]] = field(default_factory=dict)
    failed_webhook_batches: int = 0

    @property
    def bounced(self) -> int:
        return self.counts["bounce_hard"] + self.counts["bounce_soft"]

    def as_json(self) -> dict[str, object]:
        """The report as JSON-ready values (datetimes in ISO 8601)."""
        values = asdict(self)
        values["started_at"] = self.started_at.isoformat() if self.started_at else None
        values["opens_note"] = None if self.open_tracking else OPENS_MISLEAD
        return values


def report(session: Session, digest_id: int, open_tracking: bool) -> Report:
    """The engagement report of digest ``digest_id``; ``open_tracking``: settings' ``open_tracking``.

    Raises ``UnknownDigest``.
    """
    digest = session.get(Digest, digest_id)
    if digest is None:
        raise UnknownDigest(f"no digest with id {digest_id}")
    kinds = [kind for kind in KINDS if open_tracking or kind != "open"]
    totals = dict(session.execute(
        select(DigestEventCount.kind, func.sum(DigestEventCount.count))
        .where(DigestEventCount.digest_id == digest_id).group_by(DigestEventCount.kind)).all())
    engaged = dict(session.execute(
        select(DigestEngagement.kind, func.count()).where(DigestEngagement.digest_id == digest_id)
        .group_by(DigestEngagement.kind)).all())
    started = _started_at(session, digest)
    return Report(
        digest_id=digest.id, week=digest.week, subject=digest.subject, state=str(digest.state),
        recipients=int(session.scalar(
            select(func.coalesce(func.sum(DeliveryBatch.recipient_count), 0))
            .where(DeliveryBatch.digest_id == digest_id, DeliveryBatch.state == BatchState.SENT)) or 0),
        counts={kind: int(totals.get(kind) or 0) for kind in kinds},
        unique_clickers=int(engaged.get("click", 0)), open_tracking=open_tracking,
        unique_openers=int(engaged.get("open", 0)) if open_tracking else None,
        links=[LinkClicks(url, int(clicks)) for url, clicks in session.execute(
            select(DigestLinkClick.url, DigestLinkClick.clicks).where(DigestLinkClick.digest_id == digest_id)
            .order_by(DigestLinkClick.clicks.desc(), DigestLinkClick.url).limit(LINKS_SHOWN))],
        votes=_votes(session, digest, started),
        started_at=started,
        hourly=_hourly(session, digest_id, started, kinds),
        failed_webhook_batches=int(session.scalar(
            select(func.count()).select_from(WebhookBatch).where(WebhookBatch.state == WebhookBatchState.FAILED))
            or 0),
    )


def _started_at(session: Session, digest: Digest) -> dt.datetime | None:
    """When the send started: its first batch's claim, else the approval (a send not yet under way)."""
    first = session.scalar(select(func.min(DeliveryBatch.started_at)).where(DeliveryBatch.digest_id == digest.id))
    return first or digest.approved_at


def _tool_ids(sections: list[dict[str, object]]) -> list[int]:
    """The tools the digest's comparisons put to the vote, in the order the digest shows them."""
    found: list[int] = []
    for section in sections:
        for side in section.get("sides", []) if isinstance(section.get("sides"), list) else []:  # type: ignore[union-attr]
            tool_id = side.get("tool_id") if isinstance(side, dict) else None
            if isinstance(tool_id, int) and tool_id not in found:
                found.append(tool_id)
    return found


def _votes(session: Session, digest: Digest, since: dt.datetime | None) -> list[ToolVotes]:
    """Ship and skip votes on the digest's tools cast or changed since the send started (none before it did)."""
    tool_ids = _tool_ids(digest.sections or [])
    if not tool_ids:
        return []
    tally: dict[int, tuple[int, int]] = {}
    if since is not None:
        tally = {tool_id: (int(ship or 0), int(skip or 0)) for tool_id, ship, skip in session.execute(
            select(Vote.tool_id, func.sum(case((Vote.call == Call.SHIP, 1), else_=0)),
                   func.sum(case((Vote.call == Call.SKIP, 1), else_=0)))
            .where(Vote.tool_id.in_(tool_ids), Vote.updated_at >= since).group_by(Vote.tool_id))}
    tools = {tool.id: tool for tool in session.scalars(select(Tool).where(Tool.id.in_(tool_ids)))}
    return [ToolVotes(tool_id, tools[tool_id].name, tools[tool_id].slug, *tally.get(tool_id, (0, 0)))
            for tool_id in tool_ids if tool_id in tools]


def _hourly(session: Session, digest_id: int, started: dt.datetime | None, kinds: list[str]) -> dict[str, list[int]]:
    if started is None:
        return {kind: [] for kind in kinds}
    first = started.replace(minute=0, second=0, microsecond=0)
    series = {kind: [0] * CHART_HOURS for kind in kinds}
    for kind, hour, count in session.execute(
            select(DigestEventCount.kind, DigestEventCount.hour, DigestEventCount.count)
            .where(DigestEventCount.digest_id == digest_id, DigestEventCount.hour >= first,
                   DigestEventCount.hour < first + dt.timedelta(hours=CHART_HOURS))):
        if kind in series:
            series[kind][int((hour - first).total_seconds() // 3600)] += int(count)
    return series
