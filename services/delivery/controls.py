"""The editor's controls over a send under way: pause, resume, cancel, and ops' resend of an ambiguous batch."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.core import events
from services.core.db.base import utcnow
from services.core.db.models import DeliveryBatch, Digest, DigestSend
from services.core.domain import BatchState, DigestState, SendControl
from services.delivery.errors import BatchNotAmbiguous, DigestNotSending
from services.delivery.send import CANCELLED_ERROR, settle


def _send_row(session: Session, digest_id: int) -> DigestSend:
    row = session.get(DigestSend, digest_id, with_for_update=True)
    if row is None:
        raise DigestNotSending(f"digest {digest_id} is not being sent")
    return row


def pause(session: Session, digest_id: int) -> None:
    """Batches not yet claimed wait; the ones in flight finish. Raises ``DigestNotSending``."""
    row = _send_row(session, digest_id)
    if row.control == SendControl.RUNNING:
        row.control = SendControl.PAUSED


def resume(session: Session, digest_id: int) -> int:
    """Hand the waiting batches out again; returns how many. Raises ``DigestNotSending``."""
    row = _send_row(session, digest_id)
    if row.control != SendControl.PAUSED:
        return 0
    row.control = SendControl.RUNNING
    pending = list(session.scalars(select(DeliveryBatch.id).where(
        DeliveryBatch.digest_id == digest_id, DeliveryBatch.state == BatchState.PENDING)))
    if pending:
        events.record(session, "delivery.batches_ready", batch_ids=pending, digest_id=digest_id)
    return len(pending)


def cancel(session: Session, digest_id: int) -> int:
    """Close every batch not yet claimed as failed (cancelled); returns how many. Raises ``DigestNotSending``."""
    row = _send_row(session, digest_id)
    row.control = SendControl.CANCELLED
    pending = list(session.scalars(select(DeliveryBatch).where(
        DeliveryBatch.digest_id == digest_id, DeliveryBatch.state == BatchState.PENDING)))
    for batch in pending:
        batch.state, batch.error, batch.finished_at = BatchState.FAILED, CANCELLED_ERROR, utcnow()
    session.flush()
    settle(session, digest_id)
    return len(pending)


def resend(session: Session, batch_id: int) -> int:
    """Ops' decision for an ambiguous batch: a new pending batch for the same recipients (once).

    Returns the new batch's id (the same id when asked again). Raises ``BatchNotAmbiguous``.
    """
    batch = session.get(DeliveryBatch, batch_id, with_for_update=True)
    if batch is None or batch.state != BatchState.AMBIGUOUS:
        raise BatchNotAmbiguous(f"batch {batch_id} is not ambiguous")
    if batch.resent_as_id is not None:
        return batch.resent_as_id
    number = session.scalar(select(func.max(DeliveryBatch.number)).where(DeliveryBatch.digest_id == batch.digest_id))
    again = DeliveryBatch(digest_id=batch.digest_id, number=(number or 0) + 1, subscriber_ids=list(batch.subscriber_ids),
                          recipient_count=batch.recipient_count, state=BatchState.PENDING, variant_id=batch.variant_id)
    session.add(again)
    session.flush()
    batch.resent_as_id = again.id
    digest = session.get(Digest, batch.digest_id)
    if digest is not None and digest.state == DigestState.SENT:
        digest.state = DigestState.SENDING
    events.record(session, "delivery.batches_ready", batch_ids=[again.id], digest_id=batch.digest_id)
    return again.id


