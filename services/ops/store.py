"""What the store of record says about the machine: feed health, sends in progress, the outbox."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.core import events
from services.core.db.base import utcnow
from services.core.db.models import DeliveryBatch, Digest, Event, Source
from services.core.domain import BatchState, DigestState, SourceState

#: Batches of digests sent longer ago than this are history, not "in progress".
RECENT_SENDS = dt.timedelta(days=7)


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def feed_health(session: Session) -> list[dict[str, Any]]:
    """Every source: its state, last success and error, consecutive failures and next poll; failing first."""
    sources = session.scalars(select(Source).order_by(Source.consecutive_failures.desc(), Source.id)).all()
    return [
        {
            "id": source.id, "url": source.url, "title": source.title, "kind": source.kind, "state": source.state,
            "paused": source.state != SourceState.ACTIVE, "state_reason": source.state_reason,
            "last_success_at": _iso(source.last_success_at), "last_error": source.last_error,
            "last_error_at": _iso(source.last_error_at), "consecutive_failures": source.consecutive_failures,
            "next_poll_at": _iso(source.next_poll_at) if source.state == SourceState.ACTIVE else None,
        }
        for source in sources
    ]


def sources_by_state(session: Session) -> dict[str, int]:
    return {state: count for state, count in session.execute(
        select(Source.state, func.count()).group_by(Source.state)).all()}


@dataclass(frozen=True)
class SendSummary:
    digest_id: int
    week: str
    state: str
    batches: dict[str, int]
    recipients: dict[str, int]
    ambiguous: list[dict[str, Any]]

    @property
    def handed_off(self) -> int:
        """Recipients in batches SendGrid (or the outbox) accepted."""
        return self.recipients.get(BatchState.SENT, 0)

    def as_dict(self) -> dict[str, Any]:
        return {"digest_id": self.digest_id, "week": self.week, "state": self.state, "batches": self.batches,
                "recipients": self.recipients, "handed_off": self.handed_off, "ambiguous": self.ambiguous}


def sends(session: Session, now: dt.datetime | None = None) -> list[SendSummary]:
    """Digests still sending, or sent in the last week, with their batches by state and ambiguous batches."""
    since = (now or utcnow()) - RECENT_SENDS
    digests = session.scalars(
        select(Digest).where((Digest.state == DigestState.SENDING) | (Digest.sent_at >= since))
        .order_by(Digest.id.desc())
    ).all()
    summaries = []
    for digest in digests:
        rows = session.execute(
            select(DeliveryBatch.state, func.count(), func.coalesce(func.sum(DeliveryBatch.recipient_count), 0))
            .where(DeliveryBatch.digest_id == digest.id).group_by(DeliveryBatch.state)
        ).all()
        ambiguous = session.scalars(
            select(DeliveryBatch).where(DeliveryBatch.digest_id == digest.id,
                                        DeliveryBatch.state == BatchState.AMBIGUOUS,
                                        DeliveryBatch.resent_as_id.is_(None)).order_by(DeliveryBatch.number)
        ).all()
        summaries.append(SendSummary(
            digest.id, digest.week, digest.state,
            batches={state: count for state, count, _ in rows},
            recipients={state: int(recipients) for state, _, recipients in rows},
            ambiguous=[{"id": b.id, "number": b.number, "recipients": b.recipient_count, "error": b.error,
                        "finished_at": _iso(b.finished_at)} for b in ambiguous],
        ))
    return summaries


def batches_by_state(session: Session) -> dict[str, int]:
    return {state: count for state, count in session.execute(
        select(DeliveryBatch.state, func.count()).group_by(DeliveryBatch.state)).all()}


def outbox_waiting(session: Session, grace_seconds: int) -> list[dict[str, Any]]:
    """Events unhandled for longer than the sweeper's grace period, oldest first."""
    now = utcnow()
    return [
        {"id": event.id, "type": event.type, "created_at": _iso(event.created_at),
         "waiting_seconds": int((now - event.created_at).total_seconds()), "publish_count": event.publish_count,
         "last_error": event.last_error}
        for event in events.waiting_longer_than(session, grace_seconds)
    ]


def outbox_lag_seconds(session: Session) -> float:
    """Age of the oldest unhandled event (0 when none waits)."""
    oldest = session.scalar(select(func.min(Event.created_at)).where(Event.handled_at.is_(None)))
    if oldest is None:
        return 0.0
    if oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=dt.UTC)
    return max(0.0, (utcnow() - oldest).total_seconds())
