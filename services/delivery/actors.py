"""Thin actors and event handlers of the delivery package."""

from __future__ import annotations

from dramatiq.middleware import CurrentMessage
from sqlalchemy.orm import Session

from services.core import events, runtime
from services.core.broker import actor
from services.delivery import send
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
    send.start_send(session, int(payload["digest_id"]))  # type: ignore[arg-type]


@events.handles("delivery.batches_ready")
def _enqueue_batches(session: Session, payload: events.Payload) -> None:
    # Handled twice after a crash, a batch gets a second message: its claim makes that one a no-op.
    for batch_id in payload["batch_ids"]:  # type: ignore[union-attr]
        send_batch.send(int(batch_id))
