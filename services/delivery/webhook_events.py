"""SendGrid's Event Webhook: signature checks and processing each event once.

The signature is ECDSA (P-256, SHA-256) over the timestamp header followed by the raw request
body, checked with ``sendgrid.helpers.eventwebhook``. That helper checks neither the timestamp's
age nor its form, and raises on a signature that is not base64, so those checks live here.
Events arrive at least once; ``sg_event_id`` makes processing idempotent. Each event is processed
in a savepoint of its own, so a malformed event is reported and the rest of the array still counts.
What an event does to its address is ``suppression_rules.classify``'s answer.
"""

from __future__ import annotations

import binascii
import time
from dataclasses import dataclass, field

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from services.core import limits
from services.core.addresses import InvalidAddress, identity
from services.core.db.base import utcnow
from services.core.db.models import DigestSend, Subscriber, WebhookEvent
from services.delivery import subscribers
from services.delivery.suppression_rules import Disposition, classify

SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"
MAX_AGE_SECONDS = 600
COUNTERS = {"delivered": DigestSend.delivered, "open": DigestSend.opened, "click": DigestSend.clicked}


def signature_is_valid(public_key: str, raw_body: bytes, signature: str | None, timestamp: str | None,
                       now: float | None = None) -> bool:
    """True only for a fresh, well-formed timestamp and a signature by ``public_key`` over it and the body."""
    from sendgrid.helpers.eventwebhook import EventWebhook

    if not signature or not timestamp or not timestamp.isdigit() or not timestamp.isascii():
        return False
    age = (time.time() if now is None else now) - int(timestamp)
    if not -MAX_AGE_SECONDS <= age <= MAX_AGE_SECONDS:
        return False
    try:
        binascii.a2b_base64(signature.encode("ascii"), strict_mode=True)
        payload = raw_body.decode("utf-8")
        return bool(EventWebhook(public_key).verify_signature(payload, signature, timestamp))
    except (ValueError, UnicodeError, binascii.Error):
        return False


@dataclass
class Outcome:
    processed: int = 0
    duplicates: int = 0
    rejected: list[str] = field(default_factory=list)


def _as_int(value: object) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def process(session: Session, events: list[object], soft_bounce_limit: int) -> Outcome:
    """Apply each of ``events`` (the webhook's JSON array) once; returns what was processed, repeated, rejected.

    Hard bounces, never-deliverable drops and opt-outs suppress the address at once; the
    ``soft_bounce_limit``-th soft bounce in a row (settings' ``soft_bounce_limit``; a delivery ends a
    run) suppresses it too (``suppression_rules``). Delivered, open and click count per digest.
    Raises nothing for a bad event: it is listed in ``Outcome.rejected``.
    """
    outcome = Outcome()
    for position, event in enumerate(events):
        if not isinstance(event, dict) or not isinstance(event.get("sg_event_id"), str) \
                or not isinstance(event.get("event"), str) or not event["sg_event_id"]:
            outcome.rejected.append(f"event {position}: needs string sg_event_id and event")
            continue
        try:
            with session.begin_nested():
                if _apply(session, event, soft_bounce_limit):
                    outcome.processed += 1
                else:
                    outcome.duplicates += 1
        except IntegrityError:
            outcome.duplicates += 1
        except (SQLAlchemyError, ValueError, TypeError) as exc:
            reason = f"event {position} ({event['sg_event_id']}): {type(exc).__name__}: {exc}"
            outcome.rejected.append(limits.clip(reason, limits.WEBHOOK_REJECTION))
    return outcome


def _apply(session: Session, event: dict[str, object], soft_bounce_limit: int) -> bool:
    event_id = limits.clip(str(event["sg_event_id"]), limits.WEBHOOK_EVENT_ID)
    kind = str(event["event"])
    if session.get(WebhookEvent, event_id) is not None:
        return False
    digest_id, subscriber_id = _as_int(event.get("digest_id")), _as_int(event.get("subscriber_id"))
    session.add(WebhookEvent(sg_event_id=event_id, event=limits.clip(kind, limits.WEBHOOK_EVENT), digest_id=digest_id,
                             subscriber_id=subscriber_id))
    session.flush()  # a concurrent duplicate fails here, inside the savepoint
    disposition = classify(event)
    if disposition == Disposition.DELIVERED:
        _end_soft_bounce_run(session, subscriber_id, event.get("email"))
    elif disposition != Disposition.IGNORE:
        subscriber = _subscriber(session, subscriber_id, event.get("email"))
        if subscriber is not None:
            _dispose(session, subscriber, disposition, kind, soft_bounce_limit)
    if kind in COUNTERS and digest_id is not None:
        column = COUNTERS[kind]
        session.execute(update(DigestSend).where(DigestSend.digest_id == digest_id).values({column: column + 1}))
    return True


def _dispose(session: Session, subscriber: Subscriber, disposition: Disposition, kind: str,
             soft_bounce_limit: int) -> None:
    if disposition == Disposition.SOFT_BOUNCE:
        run = session.execute(update(Subscriber).where(Subscriber.id == subscriber.id)  # atomic: posts may race
                              .values(soft_bounce_run=Subscriber.soft_bounce_run + 1)
                              .returning(Subscriber.soft_bounce_run)).scalar_one()
        if run >= soft_bounce_limit:
            _suppress(subscriber, f"soft bounces in a row: {run}")
    else:  # SUPPRESS or OPT_OUT
        _suppress(subscriber, kind)
        if disposition == Disposition.OPT_OUT:
            subscribers.unsubscribe(subscriber)


def _end_soft_bounce_run(session: Session, subscriber_id: int | None, address: object) -> None:
    """A delivery ends the subscriber's run of soft bounces: one UPDATE of a run above 0, no row loaded.

    The subscriber is the one ``subscriber_id`` names, or without one the one the event's ``email`` names.
    """
    if subscriber_id is not None:
        named = Subscriber.id == subscriber_id
    elif isinstance(address, str):
        try:
            named = Subscriber.email == identity(address)
        except InvalidAddress:
            return
    else:
        return
    session.execute(update(Subscriber).where(named, Subscriber.soft_bounce_run > 0).values(soft_bounce_run=0))


def _suppress(subscriber: Subscriber, reason: str) -> None:
    if subscriber.suppressed_at is None:
        subscriber.suppressed_reason, subscriber.suppressed_at = reason, utcnow()


def _subscriber(session: Session, subscriber_id: int | None, address: object) -> Subscriber | None:
    subscriber = session.get(Subscriber, subscriber_id) if subscriber_id is not None else None
    if subscriber is None and isinstance(address, str):
        try:
            subscriber = subscribers.by_address(session, address)
        except InvalidAddress:
            return None
    return subscriber
