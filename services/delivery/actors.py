"""Thin actors and event handlers of the delivery package.

The confirmation and welcome handlers read the subscriber's state before mailing, so a handled-again
event mails nobody who is no longer due it. They mail inside the event's transaction: a crash after
the mail went out and before that commit handles the event again and sends the mail once more, which
is acceptable for these mails (a second confirmation link or welcome harms no one; none is ever lost).
"""

from __future__ import annotations

from dramatiq.middleware import CurrentMessage
from sqlalchemy.orm import Session

from services.core import events, runtime
from services.core.broker import actor
from services.core.db.models import Subscriber
from services.core.domain import SubscriberState
from services.delivery import send, subscribers, webhook_processing
from services.mail.mailers import mailer_for


@actor("mail", max_retries=0, time_limit=15 * 60 * 1000)
def send_batch(batch_id: int) -> None:
    rt = runtime.current()
    message = CurrentMessage.get_current_message()
    message_id = message.message_id if message is not None else f"direct:{batch_id}"
    send.send_batch(rt.sessions, rt.settings, mailer_for(rt.settings), batch_id, message_id)


def sweep_stuck_batches() -> int:
    """The scheduler's tick: close batches whose outcome was never written (see send.close_stuck)."""
    with runtime.current().sessions() as session, session.begin():
        return send.close_stuck(session)


@events.handles("digest.approved")
def _cut_batches(session: Session, payload: events.Payload) -> None:
    send.start_send(session, int(payload["digest_id"]), settings=runtime.current().settings)  # type: ignore[arg-type]


@events.handles("delivery.batches_ready")
def _enqueue_batches(session: Session, payload: events.Payload) -> None:
    # Handled twice after a crash, a batch gets a second message: its claim makes that one a no-op.
    for batch_id in payload["batch_ids"]:  # type: ignore[union-attr]
        send_batch.send(int(batch_id))


@events.handles("subscriber.confirmation_due")
def _mail_confirmation(session: Session, payload: events.Payload) -> None:
    subscriber = session.get(Subscriber, int(payload["subscriber_id"]))  # type: ignore[arg-type]
    if subscriber is not None and subscriber.state == SubscriberState.PENDING:
        subscribers.mail_confirmation(runtime.current().settings, subscriber)


@events.handles("subscriber.welcome_due")
def _mail_welcome(session: Session, payload: events.Payload) -> None:
    subscriber = session.get(Subscriber, int(payload["subscriber_id"]))  # type: ignore[arg-type]
    if subscriber is not None and subscriber.state == SubscriberState.CONFIRMED:
        subscribers.mail_welcome(runtime.current().settings, subscriber)


@events.handles("webhook.batch_stored")
def _process_webhook_batch(session: Session, payload: events.Payload) -> None:
    # Idempotent: a processed batch is left alone; a failed one is kept, marked, with its error.
    webhook_processing.process(session, int(payload["batch_id"]),  # type: ignore[arg-type]
                               runtime.current().settings.soft_bounce_limit)
