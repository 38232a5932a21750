"""How a send is going, for the CLI and the editor's send page."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.core.db.models import DeliveryBatch, Digest, DigestEventCount, DigestSend, Subscriber
from services.core.domain import BatchState, DigestState, SendControl
from services.delivery.errors import UnknownDigest
from services.delivery.send import SETTLED


@dataclass(frozen=True)
class SendProgress:
    digest_id: int
    week: str
    digest_state: DigestState
    control: SendControl | None
    recipients: dict[BatchState, int] = field(default_factory=dict)
    batches: dict[BatchState, int] = field(default_factory=dict)
    delivered: int = 0
    opened: int = 0
    clicked: int = 0

    @property
    def total(self) -> int:
        return sum(self.recipients.values())

    @property
    def handed_off(self) -> int:
        return sum(self.recipients.get(state, 0) for state in SETTLED)

    @property
    def settled(self) -> bool:
        return sum(self.batches.get(state, 0) for state in SETTLED) == sum(self.batches.values())

    @property
    def percent(self) -> int:
        return 100 if not self.total else round(100 * self.handed_off / self.total)

    @property
    def troubled(self) -> int:
        """Batches that did not plainly go out: failed or ambiguous."""
        return self.batches.get(BatchState.FAILED, 0) + self.batches.get(BatchState.AMBIGUOUS, 0)


def progress(session: Session, digest_id: int) -> dict[BatchState, int]:
    """Recipients per batch state (the plain figure pages show). Raises ``UnknownDigest``."""
    return dict(summary(session, digest_id).recipients)


def summary(session: Session, digest_id: int) -> SendProgress:
    """Recipients and batches per state, the control and the engagement counts of one send (the webhook's
    processed events, ``engagement_counters``).

    Raises ``UnknownDigest``.
    """
    digest = session.get(Digest, digest_id)
    if digest is None:
        raise UnknownDigest(f"no digest with id {digest_id}")
    rows = session.execute(
        select(DeliveryBatch.state, func.count(), func.coalesce(func.sum(DeliveryBatch.recipient_count), 0))
        .where(DeliveryBatch.digest_id == digest_id, DeliveryBatch.resent_as_id.is_(None))
        .group_by(DeliveryBatch.state)
    ).all()
    send = session.get(DigestSend, digest_id)
    counted = dict(session.execute(
        select(DigestEventCount.kind, func.sum(DigestEventCount.count))
        .where(DigestEventCount.digest_id == digest_id, DigestEventCount.kind.in_(("delivered", "open", "click")))
        .group_by(DigestEventCount.kind)).all())
    return SendProgress(
        digest_id=digest_id, week=digest.week, digest_state=digest.state, control=send.control if send else None,
        recipients={state: int(recipients) for state, _count, recipients in rows},
        batches={state: int(count) for state, count, _recipients in rows},
        delivered=int(counted.get("delivered") or 0), opened=int(counted.get("open") or 0),
        clicked=int(counted.get("click") or 0),
    )


@dataclass(frozen=True)
class AmbiguousBatch:
    batch_id: int
    digest_id: int
    number: int
    error: str | None
    recipients: list[str]


def ambiguous_batches(session: Session, digest_id: int | None = None) -> list[AmbiguousBatch]:
    """Ambiguous batches not yet resent, with their recipients' addresses, for ops to decide."""
    query = select(DeliveryBatch).where(DeliveryBatch.state == BatchState.AMBIGUOUS,
                                        DeliveryBatch.resent_as_id.is_(None))
    if digest_id is not None:
        query = query.where(DeliveryBatch.digest_id == digest_id)
    found = []
    for batch in session.scalars(query.order_by(DeliveryBatch.id)):
        addresses = list(session.scalars(select(Subscriber.email).where(Subscriber.id.in_(list(batch.subscriber_ids)))
                                         .order_by(Subscriber.id)))
        found.append(AmbiguousBatch(batch.id, batch.digest_id, batch.number, batch.error, addresses))
    return found
