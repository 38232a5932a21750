"""Sending a digest: a recipient snapshot cut into ledger batches, each sent at most once.

A batch is claimed by compare-and-set (``pending → sending``) with the broker message's id. If the
same message comes back after a crash, the batch is still ``sending``: it may or may not have gone
out, so it turns ``ambiguous`` for ops to decide; it is never re-sent automatically.
"""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from services.core import events, links
from services.core.db.base import utcnow
from services.core.db.models import DeliveryBatch, Digest, Subscriber
from services.core.domain import (
    BatchState,
    Call,
    DigestState,
    OutgoingMail,
    SubscriberState,
)
from services.core.settings import Settings
from services.digest import placeholders
from services.digest.mailers import Mailer

BATCH_SIZE = 1000
SETTLED = {BatchState.SENT.value, BatchState.FAILED.value, BatchState.AMBIGUOUS.value}


def recipients_query():  # noqa: ANN201 - a Select of subscriber ids
    return (
        select(Subscriber.id)
        .where(Subscriber.state == SubscriberState.CONFIRMED.value, Subscriber.suppressed_at.is_(None),
               Subscriber.paused.is_(False))
        .order_by(Subscriber.id)
    )


def start_send(session: Session, digest_id: int, batch_size: int = BATCH_SIZE) -> list[int]:
    """Snapshot the recipients into pending batches; idempotent (a digest is cut into batches once)."""
    digest = session.get(Digest, digest_id)
    if digest is None:
        raise ValueError(f"no digest with id {digest_id}")
    existing = list(session.scalars(select(DeliveryBatch.id).where(DeliveryBatch.digest_id == digest_id)))
    if existing or digest.state in (DigestState.SENDING.value, DigestState.SENT.value):
        return existing
    ids = list(session.scalars(recipients_query()))
    batches = [
        DeliveryBatch(digest_id=digest_id, number=n, subscriber_ids=ids[i:i + batch_size],
                      recipient_count=len(ids[i:i + batch_size]))
        for n, i in enumerate(range(0, len(ids), batch_size), start=1)
    ]
    session.add_all(batches)
    digest.state = DigestState.SENDING.value
    session.flush()
    for batch in batches:
        events.record(session, "delivery.batch_created", batch_id=batch.id, digest_id=digest_id)
    if not batches:
        _finish_digest(session, digest)
    return [batch.id for batch in batches]


def personal_mail(settings: Settings, digest: Digest, subscriber: Subscriber) -> OutgoingMail:
    unsubscribe = links.unsubscribe(settings, subscriber.id)
    values = {placeholders.UNSUBSCRIBE: unsubscribe, placeholders.PREFERENCES: links.preferences(settings, subscriber.id)}
    for section in digest.sections:
        for side in section.get("sides", ()):
            for call in Call:
                values[placeholders.vote(side["tool_id"], call.value)] = links.vote(
                    settings, subscriber.id, side["tool_id"], call.value)
    return OutgoingMail(
        to=subscriber.email,
        subject=digest.subject,
        html=placeholders.fill(digest.html or "", values),
        text=placeholders.fill(digest.text or "", values),
        headers={"List-Unsubscribe": f"<{unsubscribe}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                 "X-Verdicts-Digest": digest.week},
        categories=("digest", digest.week),
    )


def send_batch(sessions: sessionmaker[Session], settings: Settings, mailer: Mailer, batch_id: int,
               message_id: str) -> str:
    """Send one batch at most once; returns the batch's state afterwards."""
    with sessions() as session, session.begin():
        claimed = session.execute(
            update(DeliveryBatch)
            .where(DeliveryBatch.id == batch_id, DeliveryBatch.state == BatchState.PENDING.value)
            .values(state=BatchState.SENDING.value, claimed_by=message_id, started_at=utcnow(),
                    attempts=DeliveryBatch.attempts + 1)
        ).rowcount
        batch = session.get(DeliveryBatch, batch_id)
        if batch is None:
            raise ValueError(f"no batch with id {batch_id}")
        if not claimed:
            if batch.state == BatchState.SENDING.value and batch.claimed_by == message_id:
                batch.state = BatchState.AMBIGUOUS.value
                batch.error = "the worker stopped mid-send; some recipients may have received it"
                batch.finished_at = utcnow()
                events.record(session, "delivery.batch_ambiguous", batch_id=batch.id, digest_id=batch.digest_id)
                _settle(session, batch.digest_id)
            return batch.state
        digest = session.get(Digest, batch.digest_id)
        subscriber_ids = list(batch.subscriber_ids)
    assert digest is not None
    with sessions() as session:
        subscribers = list(session.scalars(
            select(Subscriber).where(Subscriber.id.in_(subscriber_ids), Subscriber.suppressed_at.is_(None),
                                     Subscriber.state == SubscriberState.CONFIRMED.value)
            .order_by(Subscriber.id)
        ))
    state, error = BatchState.SENT.value, None
    try:
        for subscriber in subscribers:
            mailer.send(personal_mail(settings, digest, subscriber))
    except Exception as exc:  # a failed hand-off is recorded on the batch, never retried blindly
        state, error = BatchState.FAILED.value, f"{type(exc).__name__}: {exc}"[:2000]
    with sessions() as session, session.begin():
        batch = session.get(DeliveryBatch, batch_id)
        assert batch is not None
        batch.state, batch.error, batch.finished_at = state, error, utcnow()
        events.record(session, f"delivery.batch_{state}", batch_id=batch_id, digest_id=batch.digest_id)
        _settle(session, batch.digest_id)
    return state


def _settle(session: Session, digest_id: int) -> None:
    open_batches = session.scalar(
        select(func.count()).select_from(DeliveryBatch)
        .where(DeliveryBatch.digest_id == digest_id, DeliveryBatch.state.not_in(SETTLED))
    )
    if open_batches == 0:
        digest = session.get(Digest, digest_id)
        if digest is not None:
            _finish_digest(session, digest)


def _finish_digest(session: Session, digest: Digest) -> None:
    if digest.state != DigestState.SENT.value:
        digest.state = DigestState.SENT.value
        digest.sent_at = utcnow()
        events.record(session, "digest.sent", digest_id=digest.id, week=digest.week)


def progress(session: Session, digest_id: int) -> dict[str, int]:
    rows = session.execute(
        select(DeliveryBatch.state, func.count(), func.coalesce(func.sum(DeliveryBatch.recipient_count), 0))
        .where(DeliveryBatch.digest_id == digest_id).group_by(DeliveryBatch.state)
    ).all()
    return {state: int(recipients) for state, _count, recipients in rows}
