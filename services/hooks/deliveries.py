"""Deliveries: an event fanned out to the endpoints that asked for it, each tried until it succeeds or its
attempts run out, every attempt kept; and replays.

Retries live in the database, not in the broker: a failed attempt sets ``next_attempt_at`` after an
exponential backoff (``hook_retry_base_seconds`` doubled per failed attempt, capped at
``hook_retry_max_seconds``, ±20 % jitter so endpoints that failed together are not all retried together)
and the scheduler's tick (``claim_due``) hands due deliveries to the worker. A lost message or a dead
worker therefore delays a delivery by a lease at most; it is never lost. Delivery is at least once, as
the Standard Webhooks spec expects: a receiver drops a repeat by its ``webhook-id``.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
from collections.abc import Callable

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from services.core import limits
from services.core.db.base import utcnow
from services.core.db.models import AuditEntry, HookAttempt, HookDelivery, HookEndpoint
from services.core.domain import HookDeliveryState
from services.core.settings import Settings
from services.core.text import BIDI_CONTROLS, clean_text
from services.hooks import messages, sender, signing
from services.hooks.errors import HookBusy, HookNotFound

#: Deliveries one tick hands out at most (the next tick takes the rest).
CLAIM_BATCH = 200
JITTER = 0.2

Post = Callable[..., sender.Outcome]


def fan_out(session: Session, event_type: str, payload: dict[str, object], base_url: str) -> list[HookDelivery]:
    """One pending delivery, due now, for each endpoint that asked for ``event_type``, in the caller's
    transaction (the event handler's, so the deliveries exist exactly when the event counts as handled).
    The body is written once, here: every attempt and replay sends the same bytes."""
    endpoints = [e for e in session.scalars(select(HookEndpoint).order_by(HookEndpoint.id))
                 if event_type in e.event_types]
    if not endpoints:
        return []
    now = utcnow()
    text = messages.body(event_type, messages.details(session, event_type, payload, base_url.rstrip("/")), now)
    made = [HookDelivery(endpoint_id=e.id, event_type=event_type, message_id=signing.new_message_id(), body=text,
                         next_attempt_at=now) for e in endpoints]
    session.add_all(made)
    session.flush()
    return made


def lease_seconds(settings: Settings) -> float:
    """How long (seconds) a handed-out delivery is left to its worker before a tick hands it out again: an
    attempt's deadline (``hook_deadline_seconds``, which bounds the whole POST) and a minute to spare. The
    lease starts again when the worker takes the claim (``attempt``), so time spent waiting in the queue
    does not eat into it, and an attempt is over before its delivery can be handed out again."""
    return settings.hook_deadline_seconds + 60


def claim_due(sessions: sessionmaker[Session], lease: float) -> list[tuple[int, str]]:
    """Give each due delivery (pending, ``next_attempt_at`` passed, not held by an unexpired lease) a fresh
    claim for ``lease`` seconds, and commit; returns ``(delivery id, claim)`` pairs to send to the worker.
    Safe to run in two schedulers at once (``FOR UPDATE SKIP LOCKED`` on PostgreSQL)."""
    with sessions() as session, session.begin():
        now = utcnow()
        due = session.scalars(
            select(HookDelivery)
            .where(HookDelivery.state == HookDeliveryState.PENDING, HookDelivery.next_attempt_at <= now,
                   or_(HookDelivery.claimed_until.is_(None), HookDelivery.claimed_until < now))
            .order_by(HookDelivery.next_attempt_at, HookDelivery.id).limit(CLAIM_BATCH)
            .with_for_update(skip_locked=True)).all()
        claims = []
        for delivery in due:
            delivery.claim = secrets.token_hex(8)
            delivery.claimed_until = now + dt.timedelta(seconds=lease)
            claims.append((delivery.id, delivery.claim))
        return claims


def backoff_seconds(failed_attempts: int, settings: Settings) -> float:
    """The wait after the ``failed_attempts``-th failed attempt: base × 2^(n−1), capped, ±20 % jitter."""
    wait = min(settings.hook_retry_max_seconds, settings.hook_retry_base_seconds * 2 ** (failed_attempts - 1))
    return wait * random.uniform(1 - JITTER, 1 + JITTER)


def attempt(sessions: sessionmaker[Session], settings: Settings, delivery_id: int, claim: str,
            post: Post = sender.post) -> HookDeliveryState | None:
    """Try a delivery once, if ``claim`` is still its claim; returns its state after, or None when the claim
    was not its (another message took it, it was settled, or it is gone).

    The claim is taken in one compare-and-set that swaps it for a token of this attempt and starts the
    lease again (``lease_seconds``), so two messages for one claim POST once. The POST runs outside any
    transaction, bounded by ``hook_deadline_seconds``; its outcome is then stored as a ``HookAttempt``
    (status, duration in ms, error) and the delivery becomes ``succeeded`` on a 2xx, ``failed`` when the
    guard refused the address or ``hook_max_attempts`` ran out, else stays ``pending`` until
    ``next_attempt_at``. The outcome is stored only while the delivery still holds this attempt's token:
    an attempt that outlived its lease (the delivery was handed out again, or settled) is dropped, and
    None returned, so it never counts twice nor changes a settled delivery.
    """
    held = secrets.token_hex(8)
    with sessions() as session, session.begin():
        taken = session.execute(update(HookDelivery).where(
            HookDelivery.id == delivery_id, HookDelivery.claim == claim,
            HookDelivery.state == HookDeliveryState.PENDING).values(
                claim=held, claimed_until=utcnow() + dt.timedelta(seconds=lease_seconds(settings)))).rowcount
        if not taken:
            return None
        delivery = session.get_one(HookDelivery, delivery_id)
        endpoint = session.get_one(HookEndpoint, delivery.endpoint_id)
        url, secret, message_id, text = endpoint.url, endpoint.secret, delivery.message_id, delivery.body
    outcome = post(url, signing.signed_headers(secret, message_id, text, utcnow()), text,
                   timeout_seconds=settings.hook_timeout_seconds, deadline_seconds=settings.hook_deadline_seconds,
                   allow_private_networks=settings.allow_private_networks)
    with sessions() as session, session.begin():
        delivery = session.get(HookDelivery, delivery_id, with_for_update=True)
        if delivery is None or delivery.claim != held or delivery.state != HookDeliveryState.PENDING:
            return None  # the endpoint was removed, or this attempt outlived its lease
        return _record(session, delivery, outcome, settings)


def stored_error(text: str | None) -> str | None:
    """An attempt's error text as stored and shown: one line, without control characters (a NUL would
    not even store on PostgreSQL; an escape sequence would drive the terminal of whoever lists it) and
    without bidirectional controls (``services.core.text``), at most ``limits.ERROR_TEXT`` characters;
    None for no (or nothing but such) text."""
    if not text:
        return None
    cleaned = BIDI_CONTROLS.sub("", clean_text(text, multiline=False))
    return limits.clip(cleaned, limits.ERROR_TEXT) if cleaned else None


def _record(session: Session, delivery: HookDelivery, outcome: sender.Outcome, settings: Settings) -> HookDeliveryState:
    now = utcnow()
    delivery.attempts += 1
    error = stored_error(outcome.error)
    session.add(HookAttempt(delivery_id=delivery.id, number=delivery.attempts, at=now, status_code=outcome.status,
                            duration_ms=outcome.duration_ms, error=error))
    delivery.last_status, delivery.last_error = outcome.status, error
    delivery.claim = delivery.claimed_until = None
    if outcome.delivered:
        delivery.state = HookDeliveryState.SUCCEEDED
    elif outcome.final or delivery.attempts >= settings.hook_max_attempts:
        delivery.state = HookDeliveryState.FAILED
    else:
        delivery.next_attempt_at = now + dt.timedelta(seconds=backoff_seconds(delivery.attempts, settings))
        return delivery.state
    delivery.next_attempt_at = None
    delivery.finished_at = now
    return delivery.state


def _delivery_of(session: Session, endpoint_id: int, delivery_id: int) -> HookDelivery:
    """The delivery, locked until the transaction ends (two replays of it at once take turns)."""
    delivery = session.get(HookDelivery, delivery_id, with_for_update=True)
    if delivery is None or delivery.endpoint_id != endpoint_id:
        raise HookNotFound(f"webhook endpoint {endpoint_id} has no delivery {delivery_id}")
    return delivery


def _replay(session: Session, delivery: HookDelivery) -> HookDelivery:
    again = HookDelivery(endpoint_id=delivery.endpoint_id, event_type=delivery.event_type,
                         message_id=delivery.message_id, body=delivery.body, next_attempt_at=utcnow(),
                         replay_of_id=delivery.id)
    session.add(again)
    session.flush()
    delivery.replayed_as_id = again.id
    return again


def replay(session: Session, endpoint_id: int, delivery_id: int, *, user_id: int | None,
           note: str | None = None) -> HookDelivery:
    """Send a settled delivery again as a new delivery (same ``webhook-id`` and body, a fresh set of
    attempts), due now; audited as ``hook.replay``. A delivery is replayed once: to send it yet again,
    replay its replay. Raises ``HookNotFound`` (no such delivery of that endpoint) or ``HookBusy`` (it is
    still pending, or was replayed already: a form sent twice makes one replay)."""
    delivery = _delivery_of(session, endpoint_id, delivery_id)
    if delivery.state == HookDeliveryState.PENDING:
        raise HookBusy(f"delivery {delivery_id} is still being tried; replay it once it has succeeded or failed")
    if delivery.replayed_as_id is not None:
        raise HookBusy(f"delivery {delivery_id} was already replayed as delivery {delivery.replayed_as_id}; "
                       "replay that one to send the message again")
    again = _replay(session, delivery)
    session.add(AuditEntry(user_id=user_id, action="hook.replay", subject=f"hook:{endpoint_id}",
                           detail={"delivery_id": delivery_id, "replayed_as": again.id}, note=note))
    return again


def replay_failed(session: Session, endpoint_id: int, *, user_id: int | None, note: str | None = None) -> list[HookDelivery]:
    """Replay every failed delivery of an endpoint not replayed yet (``replay``); audited once as
    ``hook.replay_failed`` with the ids. Raises ``HookNotFound`` for an unknown endpoint."""
    if session.get(HookEndpoint, endpoint_id) is None:
        raise HookNotFound(f"no webhook endpoint {endpoint_id}")
    failed = session.scalars(select(HookDelivery).where(
        HookDelivery.endpoint_id == endpoint_id, HookDelivery.state == HookDeliveryState.FAILED,
        HookDelivery.replayed_as_id.is_(None)).order_by(HookDelivery.id).with_for_update()).all()
    made = [_replay(session, delivery) for delivery in failed]
    session.add(AuditEntry(user_id=user_id, action="hook.replay_failed", subject=f"hook:{endpoint_id}",
                           detail={"delivery_ids": [d.id for d in failed], "replayed_as": [d.id for d in made]},
                           note=note))
    return made


def delivery_rows(session: Session, endpoint_id: int, *, limit: int = 50, last_attempts: int = 3) -> list[dict[str, object]]:
    """An endpoint's ``limit`` newest deliveries, newest first: ``id``, ``event_type``, ``message_id``,
    ``state``, ``attempts``, ``next_attempt_at``, ``created_at``, ``finished_at`` (ISO text or None),
    ``replay_of_id``, ``replayed_as_id``, and ``last_attempts``: its ``last_attempts`` newest attempts
    (``number``, ``at``, ``status_code``, ``duration_ms``, ``error``), newest first."""
    deliveries = session.scalars(select(HookDelivery).where(HookDelivery.endpoint_id == endpoint_id)
                                 .order_by(HookDelivery.id.desc()).limit(limit)).all()
    tries: dict[int, list[HookAttempt]] = {}
    if deliveries:
        for found in session.scalars(select(HookAttempt).where(HookAttempt.delivery_id.in_([d.id for d in deliveries]))
                                     .order_by(HookAttempt.delivery_id, HookAttempt.number.desc())):
            tries.setdefault(found.delivery_id, []).append(found)

    def when(value: dt.datetime | None) -> str | None:
        return value.isoformat() if value else None

    return [{"id": d.id, "event_type": d.event_type, "message_id": d.message_id, "state": str(d.state),
             "attempts": d.attempts, "next_attempt_at": when(d.next_attempt_at) if d.state == HookDeliveryState.PENDING
             else None, "created_at": when(d.created_at), "finished_at": when(d.finished_at),
             "replay_of_id": d.replay_of_id, "replayed_as_id": d.replayed_as_id,
             "last_attempts": [{"number": a.number, "at": when(a.at), "status_code": a.status_code,
                                "duration_ms": a.duration_ms, "error": a.error}
                               for a in tries.get(d.id, [])[:last_attempts]]}
            for d in deliveries]
