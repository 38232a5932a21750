"""Alerts to a Slack-compatible webhook, at most once per incident.

An incident opens when a problem is noticed (dead letters past the threshold, a source paused, a
batch failed or turned ambiguous) and closes when it is over; only opening one sends a message.
The incident row and the webhook call share a transaction: if the call fails, the row is rolled
back and the next event delivery or check tries again. (A call that reached Slack but whose commit
then failed would be sent twice; nothing is ever silently dropped.)
"""

from __future__ import annotations

import logging
from typing import Any

import dramatiq
import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.core import broker, events, runtime
from services.core.db.base import utcnow
from services.core.db.models import AlertIncident, DeliveryBatch, Source
from services.core.domain import BatchState, SourceState
from services.core.settings import Settings
from services.ops.queues import queue_depths

log = logging.getLogger(__name__)
TIMEOUT_SECONDS = 10.0


class AlertNotSent(RuntimeError):
    """The webhook did not accept the alert; the incident is rolled back and tried again later."""


def notify(settings: Settings, text: str, transport: httpx.BaseTransport | None = None) -> bool:
    """POST ``{"text": …}`` to the webhook; False when none is configured."""
    if settings.alert_webhook_url is None:
        return False
    try:
        with httpx.Client(timeout=TIMEOUT_SECONDS, transport=transport) as client:
            response = client.post(settings.alert_webhook_url.get_secret_value(), json={"text": text})
            response.raise_for_status()
    except httpx.HTTPError as exc:
        raise AlertNotSent(f"the alert webhook failed: {type(exc).__name__}") from exc
    return True


def open_incident(session: Session, settings: Settings, key: str, text: str, **detail: Any) -> bool:
    """Open the incident ``key`` and announce it, unless it is open already; True when it was opened."""
    if session.scalar(select(AlertIncident.id).where(AlertIncident.open_key == key)) is not None:
        return False
    incident = AlertIncident(key=key, open_key=key, text=text, detail=detail)
    session.add(incident)
    session.flush()  # the unique open_key stops a concurrent twin here
    if notify(settings, text):
        incident.notified_at = utcnow()
    log.warning("alert: %s", text, extra={"incident": key})
    return True


def resolve(session: Session, key: str) -> bool:
    incident = session.scalar(select(AlertIncident).where(AlertIncident.open_key == key))
    if incident is None:
        return False
    incident.open_key = None
    incident.resolved_at = utcnow()
    return True


def open_incidents(session: Session) -> list[AlertIncident]:
    return list(session.scalars(select(AlertIncident).where(AlertIncident.open_key.is_not(None))
                                .order_by(AlertIncident.opened_at.desc())))


def check_dead_letters(session: Session, settings: Settings, broker: dramatiq.Broker) -> list[str]:
    """Open an incident for each queue at or past the threshold, resolve the others; returns the opened keys."""
    opened = []
    for depth in queue_depths(broker):
        key = f"dead-letters:{depth.name}"
        if depth.dead >= settings.alert_dead_letter_threshold:
            text = (f"{depth.dead} dead-lettered messages on queue {depth.name} "
                    f"(threshold {settings.alert_dead_letter_threshold}): {settings.public_url}/ops/queues/{depth.name}")
            if open_incident(session, settings, key, text, queue=depth.name, dead=depth.dead):
                opened.append(key)
        else:
            resolve(session, key)
    return opened


def resolve_recovered_sources(session: Session) -> int:
    """Close the paused-source incidents of sources that poll again."""
    keys = session.scalars(select(AlertIncident.open_key).where(AlertIncident.open_key.like("source-paused:%"))).all()
    resolved = 0
    for key in keys:
        source = session.get(Source, int(key.split(":", 1)[1]))
        if source is None or source.state == SourceState.ACTIVE:
            resolved += resolve(session, key)
    return resolved


def check() -> list[str]:
    """The scheduler's alert tick: dead letters against the threshold, recovered sources."""
    rt = runtime.current()
    with rt.sessions() as session, session.begin():
        opened = check_dead_letters(session, rt.settings, broker.current())
        resolve_recovered_sources(session)
    return opened


@events.handles("source.paused")
def _source_paused(session: Session, payload: events.Payload) -> None:
    source_id = int(payload["source_id"])  # type: ignore[call-overload]
    source = session.get(Source, source_id)
    if source is None or source.state == SourceState.ACTIVE:
        return
    settings = runtime.current().settings
    open_incident(session, settings, f"source-paused:{source_id}",
                  f"Source {source_id} ({source.url}) was paused after {source.consecutive_failures} failures: "
                  f"{payload.get('reason') or source.last_error or 'no reason given'}", source_id=source_id)


def _batch_alert(session: Session, payload: events.Payload, state: BatchState) -> None:
    batch = session.get(DeliveryBatch, int(payload["batch_id"]))  # type: ignore[call-overload]
    if batch is None:
        return
    settings = runtime.current().settings
    what = ("failed" if state == BatchState.FAILED
            else "is ambiguous (it may have partly gone out; decide whether to resend)")
    open_incident(session, settings, f"batch-{state}:{batch.id}",
                  f"Delivery batch {batch.number} of digest {batch.digest_id} ({batch.recipient_count} recipients) "
                  f"{what}: {batch.error or 'no error recorded'}", batch_id=batch.id, digest_id=batch.digest_id)


@events.handles("delivery.batch_failed")
def _batch_failed(session: Session, payload: events.Payload) -> None:
    _batch_alert(session, payload, BatchState.FAILED)


@events.handles("delivery.batch_ambiguous")
def _batch_ambiguous(session: Session, payload: events.Payload) -> None:
    _batch_alert(session, payload, BatchState.AMBIGUOUS)
