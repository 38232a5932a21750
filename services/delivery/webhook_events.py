"""SendGrid's Event Webhook, the request's side: the signature check and storing the post as received.

The signature is ECDSA (P-256, SHA-256) over the timestamp header followed by the raw request
body, checked with ``sendgrid.helpers.eventwebhook``. That helper checks neither the timestamp's
age nor its form, and raises on a signature that is not base64, so those checks live here.
A verified post is stored verbatim with the event that has a worker process it
(``webhook_processing``), in the caller's transaction: SendGrid expects a quick 2xx and retries
for a day otherwise, so the request does nothing per event.
"""

from __future__ import annotations

import binascii
import time

from sqlalchemy.orm import Session

from services.core import events
from services.core.db.models import WebhookBatch
from services.core.event_types import EventName

SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"
MAX_AGE_SECONDS = 600


def signature_is_valid(public_key: str, raw_body: bytes, signature: str | None, timestamp: str | None,
                       now: float | None = None) -> bool:
    """True only for a fresh, well-formed timestamp and a signature by ``public_key`` over it and the body."""
    from sendgrid.helpers.eventwebhook import EventWebhook

    # Unix seconds have 10 digits until 2286: a longer "timestamp" is refused before int() (which a few
    # hundred digits make overflow the float subtraction, or thousands past Python's digit limit).
    if not signature or not timestamp or len(timestamp) > 12 or not timestamp.isdigit() or not timestamp.isascii():
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


def store(session: Session, body: str, event_count: int) -> WebhookBatch:
    """Add a verified post (``body``: its JSON array as received; ``event_count``: the array's length) as a
    stored batch, and the ``webhook.batch_stored`` event that has a worker process it, to the caller's
    transaction: both are written when it commits, or neither. Raises nothing of its own."""
    batch = WebhookBatch(body=body, event_count=event_count)
    session.add(batch)
    session.flush()  # the batch's id, for the event
    events.record(session, EventName.WEBHOOK_BATCH_STORED, batch_id=batch.id)
    return batch
