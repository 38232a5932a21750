"""SendGrid's Event Webhook, the worker's side: apply a stored post's events, each once, a batch at a time.

Events arrive at least once; ``sg_event_id`` (the primary key of ``webhook_events``) makes processing
idempotent: a batch inserts its events with ON CONFLICT DO NOTHING, and only the rows it really inserted
go on to change addresses and counters, so an event repeated within a post, across posts or by a second
run of the same batch counts once. Everything is set-based, per batch: one INSERT of the events, a few
UPDATEs of subscribers (one per suppression reason, one for the soft-bounce runs, one for the runs a
delivery ends), and the counters' upserts (``engagement_counters``). A post's events are applied together
or not at all: if applying them fails, the batch is kept, marked ``failed`` with the error, and the
others go on.

What an event does to its address is ``suppression_rules.classify``'s answer (SendGrid's Event Webhook
reference); a malformed event (not an object, no string ``sg_event_id`` or ``event``) is listed on the
batch and the rest still count.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

import orjson
from sqlalchemy import case, select, update
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from services.core import events, limits
from services.core.addresses import InvalidAddress, identity
from services.core.db.base import utcnow
from services.core.db.models import Subscriber, WebhookBatch, WebhookEvent
from services.core.domain import SubscriberState, WebhookBatchState
from services.core.event_types import EventName
from services.delivery import bulk_sql, engagement_counters
from services.delivery.suppression_rules import Disposition, classify

#: The largest id an INTEGER column holds; a larger ``digest_id`` or ``subscriber_id`` names nothing of ours.
_MAX_ID = 2**31 - 1
#: Timestamps past this (Unix seconds, in the year 5138) are not taken as one.
_LATEST = 1e11


class Incoming(NamedTuple):
    """One well-formed event of a post, as processing needs it (a tuple: a post holds thousands)."""

    position: int
    sg_event_id: str
    kind: str
    digest_id: int | None
    subscriber_id: int | None
    address: str | None   # the event's ``email`` as an identity (core.addresses), when it is one
    at: float             # the event's ``timestamp`` (Unix seconds), or when the post arrived
    disposition: Disposition
    bounce_type: str | None
    url: str | None


@dataclass(frozen=True)
class Applied:
    """What a batch's events came to: applied the first time, seen before (in another post, or earlier in this
    one), refused (with reasons)."""

    fresh: int
    duplicates: int
    rejected: list[str]


def process(session: Session, batch_id: int, soft_bounce_limit: int) -> WebhookBatch | None:
    """Process stored batch ``batch_id`` in the caller's transaction; the batch (None when there is none).

    A processed batch is left alone (processing is idempotent). Otherwise its events are applied in a
    savepoint: on success the batch is ``processed`` with its figures; when applying fails (a body that does
    not parse, a value the database refuses) the savepoint is rolled back and the batch is ``failed`` with the
    error, kept for ops to see. ``soft_bounce_limit``: settings' ``soft_bounce_limit``.

    Raises ``OperationalError`` (a lost connection, a deadlock, a lock timeout: worth another try, which the
    event's redelivery makes) and nothing else from applying the events.
    """
    batch = session.get(WebhookBatch, batch_id, with_for_update=True)
    if batch is None or batch.state == WebhookBatchState.PROCESSED:
        return batch
    batch.attempts += 1
    try:
        with session.begin_nested():
            applied = apply_events(session, batch.body, batch.received_at, soft_bounce_limit)
    except OperationalError:
        raise
    except (SQLAlchemyError, ValueError, TypeError) as exc:
        batch.state, batch.error = WebhookBatchState.FAILED, limits.clip(f"{type(exc).__name__}: {exc}",
                                                                        limits.ERROR_TEXT)
        return batch
    batch.state, batch.processed_at, batch.error = WebhookBatchState.PROCESSED, utcnow(), None
    batch.fresh, batch.duplicates = applied.fresh, applied.duplicates
    batch.rejected = applied.rejected[:limits.WEBHOOK_REJECTIONS_KEPT]
    return batch


def apply_events(session: Session, body: str, received_at: dt.datetime, soft_bounce_limit: int) -> Applied:
    """Apply the events of ``body`` (a post's JSON array) that were never applied; what they came to.

    ``received_at`` stands in for an event without a usable ``timestamp``. Raises ``ValueError`` when ``body``
    is not a JSON array, ``SQLAlchemyError`` when the database refuses a statement.
    """
    posted = orjson.loads(body)
    if not isinstance(posted, list):
        raise ValueError("the stored body is not a JSON array")
    incoming, rejected = _parse(posted, received_at)
    fresh = _insert_new(session, incoming)
    ids = _subscriber_ids(session, fresh)
    _apply_to_addresses(session, fresh, ids, soft_bounce_limit)
    engagement_counters.add(session, fresh, ids)
    return Applied(len(fresh), len(posted) - len(rejected) - len(fresh), rejected)


def _as_id(value: object) -> int | None:
    """A ``digest_id`` or ``subscriber_id`` (SendGrid's custom_args are strings) as an int, or None."""
    if type(value) is str and value.isdigit() and value.isascii() and len(value) <= 10:
        number = int(value)
    elif type(value) is int:
        number = value
    else:
        return None
    return number if 0 < number <= _MAX_ID else None


def _seconds(value: object, fallback: float) -> float:
    """A Unix ``timestamp`` (seconds, as SendGrid sends it) within years 1970–5138, else ``fallback``."""
    if type(value) is int or type(value) is float:
        return value if 0 <= value < _LATEST else fallback  # type: ignore[operator,return-value]
    return fallback


def _address(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return identity(value)
    except InvalidAddress:
        return None


def _parse(events: list[object], received_at: dt.datetime) -> tuple[list[Incoming], list[str]]:
    """The well-formed events, each ``sg_event_id`` once (the first wins), sorted by it (so concurrent batches
    take their row locks in one order), and the reasons the others were refused."""
    seen: dict[str, Incoming] = {}
    rejected: list[str] = []
    fallback = received_at.timestamp()
    ignore = Disposition.IGNORE
    for position, event in enumerate(events):
        if type(event) is not dict or type(event_id := event.get("sg_event_id")) is not str \
                or type(kind := event.get("event")) is not str or not event_id:
            rejected.append(f"event {position}: needs string sg_event_id and event")
            continue
        if "\x00" in event_id or "\x00" in kind:  # PostgreSQL text holds no NUL
            event_id, kind = event_id.replace("\x00", ""), kind.replace("\x00", "")
        event_id = event_id[:limits.WEBHOOK_EVENT_ID]
        if event_id in seen:
            continue
        disposition = classify(event)
        subscriber_id = _as_id(event.get("subscriber_id"))
        url, bounce_type = event.get("url"), event.get("type") if kind == "bounce" else None
        seen[event_id] = Incoming(
            position, event_id, kind[:limits.WEBHOOK_EVENT], _as_id(event.get("digest_id")), subscriber_id,
            _address(event.get("email")) if subscriber_id is None and disposition != ignore else None,
            _seconds(event.get("timestamp"), fallback), disposition,
            None if bounce_type is None else str(bounce_type), url if type(url) is str else None)
    return sorted(seen.values(), key=lambda e: e.sg_event_id), rejected


def _insert_new(session: Session, incoming: list[Incoming]) -> list[Incoming]:
    """Insert ``incoming`` into ``webhook_events`` in one statement, skipping ids already there; the events
    inserted now."""
    now = utcnow()
    rows = [{"sg_event_id": e.sg_event_id, "event": e.kind, "digest_id": e.digest_id,
             "subscriber_id": e.subscriber_id, "received_at": now} for e in incoming]
    inserted = set(bulk_sql.insert_rows(session, WebhookEvent.__table__, rows, conflict=["sg_event_id"],
                                        returning="sg_event_id"))
    return [e for e in incoming if e.sg_event_id in inserted]


def _subscriber_ids(session: Session, fresh: list[Incoming]) -> dict[str, int]:
    """Each fresh event's subscriber, by ``sg_event_id``: the one its ``subscriber_id`` names, else (for an event
    that concerns its address) the one its ``email`` names. One SELECT for the addresses."""
    addresses = {e.address for e in fresh if e.subscriber_id is None and e.address}
    by_address: dict[str, int] = {}
    if addresses:
        by_address = dict(session.execute(select(Subscriber.email, Subscriber.id)
                                          .where(bulk_sql.one_of(session, Subscriber.email, sorted(addresses)))).all())
    found: dict[str, int] = {}
    for event in fresh:
        subscriber_id = event.subscriber_id if event.subscriber_id is not None else by_address.get(event.address or "")
        if subscriber_id is not None:
            found[event.sg_event_id] = subscriber_id
    return found


def _apply_to_addresses(session: Session, fresh: list[Incoming], ids: dict[str, int], soft_bounce_limit: int) -> None:
    """Suppressions, opt-outs and soft-bounce runs for the fresh events, a statement per kind of change."""
    suppress: dict[int, str] = {}
    opt_out: set[int] = set()
    timeline: dict[int, list[Incoming]] = defaultdict(list)   # deliveries and soft bounces per subscriber
    for event in fresh:
        subscriber_id = ids.get(event.sg_event_id)
        if subscriber_id is None or event.disposition == Disposition.IGNORE:
            continue
        if event.disposition in (Disposition.DELIVERED, Disposition.SOFT_BOUNCE):
            timeline[subscriber_id].append(event)
        else:  # SUPPRESS or OPT_OUT
            suppress.setdefault(subscriber_id, event.kind)
            if event.disposition == Disposition.OPT_OUT:
                opt_out.add(subscriber_id)
    suppress.update({k: v for k, v in _soft_bounce_runs(session, timeline, soft_bounce_limit).items()
                     if k not in suppress})
    now = utcnow()
    for reason, subscriber_ids in _grouped(suppress).items():
        session.execute(update(Subscriber).where(bulk_sql.one_of(session, Subscriber.id, subscriber_ids),
                                                 Subscriber.suppressed_at.is_(None))
                        .values(suppressed_reason=limits.clip(reason, 64), suppressed_at=now))
    if opt_out:  # as delivery.subscribers.unsubscribe does for one subscriber
        session.execute(update(Subscriber).where(bulk_sql.one_of(session, Subscriber.id, sorted(opt_out)),
                                                 Subscriber.state != SubscriberState.UNSUBSCRIBED)
                        .values(state=SubscriberState.UNSUBSCRIBED, unsubscribed_at=now))


def _grouped(reasons: dict[int, str]) -> dict[str, list[int]]:
    grouped: dict[str, list[int]] = defaultdict(list)
    for subscriber_id, reason in sorted(reasons.items()):
        grouped[reason].append(subscriber_id)
    return grouped


def _soft_bounce_runs(session: Session, timeline: dict[int, list[Incoming]], limit: int) -> dict[int, str]:
    """Bring each subscriber's run of soft bounces up to date with this batch's deliveries and soft bounces (in
    the order they happened: a delivery ends a run); the subscribers whose run reached ``limit``, with the reason.

    Subscribers with only deliveries get one UPDATE (a run above 0 becomes 0); those with soft bounces have their
    runs read with a row lock (two batches may race) and written back in one UPDATE. The lock is FOR NO KEY
    UPDATE, as an UPDATE's own: a plain FOR UPDATE would also block another batch's engagement rows, whose
    foreign key takes KEY SHARE on the same subscriber, and two batches could deadlock.
    """
    only_delivered = sorted(s for s, events in timeline.items()
                            if all(e.disposition == Disposition.DELIVERED for e in events))
    if only_delivered:
        session.execute(update(Subscriber).where(bulk_sql.one_of(session, Subscriber.id, only_delivered),
                                                 Subscriber.soft_bounce_run > 0)
                        .values(soft_bounce_run=0))
    bounced = sorted(set(timeline) - set(only_delivered))
    if not bounced:
        return {}
    runs = dict(session.execute(select(Subscriber.id, Subscriber.soft_bounce_run)
                                .where(bulk_sql.one_of(session, Subscriber.id, bounced))
                                .order_by(Subscriber.id).with_for_update(key_share=True)).all())
    reached: dict[int, str] = {}
    for subscriber_id in runs:
        run = runs[subscriber_id]
        for event in sorted(timeline[subscriber_id], key=lambda e: (e.at, e.position)):
            run = 0 if event.disposition == Disposition.DELIVERED else run + 1
            if run >= limit and subscriber_id not in reached:
                reached[subscriber_id] = f"soft bounces in a row: {run}"
        runs[subscriber_id] = run
    if runs:
        session.execute(update(Subscriber).where(bulk_sql.one_of(session, Subscriber.id, list(runs)))
                        .values(soft_bounce_run=case(runs, value=Subscriber.id)))
    return reached


def retry(session: Session, batch_ids: Iterable[int] | None = None) -> list[int]:
    """Send failed batches (those of ``batch_ids``, or every one) back to a worker: each is put back to ``stored``
    with the ``webhook.batch_stored`` event recorded again, in the caller's transaction; their ids. Events of
    theirs applied meanwhile through another post count once all the same."""
    query = select(WebhookBatch).where(WebhookBatch.state == WebhookBatchState.FAILED)
    if batch_ids is not None:
        query = query.where(WebhookBatch.id.in_(list(batch_ids)))
    again = list(session.scalars(query.order_by(WebhookBatch.id).with_for_update()))
    for batch in again:
        batch.state = WebhookBatchState.STORED
        events.record(session, EventName.WEBHOOK_BATCH_STORED, batch_id=batch.id)
    return [batch.id for batch in again]


def stored(session: Session, states: Iterable[WebhookBatchState] = (WebhookBatchState.FAILED,),
           limit: int = 50) -> list[WebhookBatch]:
    """Stored batches in ``states`` (failed ones by default), newest first, at most ``limit``."""
    return list(session.scalars(select(WebhookBatch).where(WebhookBatch.state.in_(list(states)))
                                .order_by(WebhookBatch.id.desc()).limit(limit)))

