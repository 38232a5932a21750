"""Sending a digest: a recipient snapshot cut into ledger batches, each sent at most once.

A batch is claimed by compare-and-set (``pending → sending``) with the broker message's id. If the
same message comes back after a crash, the batch is still ``sending``: it may or may not have gone
out, so it turns ``ambiguous`` for ops to decide; it is never re-sent automatically. Retries of
a throttled request (429, 5xx) happen inside the claim, so a crash during them is ambiguous too.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, insert, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from services.core import events, limits, links, runtime
from services.core.db.base import utcnow
from services.core.db.models import DeliveryBatch, Digest, DigestSend, DigestVariant, Subscriber
from services.core.domain import BatchState, Call, DigestState, SendControl, SubscriberState
from services.core.settings import Settings
from services.delivery import variants
from services.delivery.errors import BatchNotFound, EmptyDigest, UnknownDigest
from services.delivery.link_signing import LinkSigner
from services.delivery.list_headers import digest_headers
from services.mail import placeholders
from services.mail.mailers import Mailer
from services.mail.messages import BatchMail, Recipient, Rejected, Throttled, Uncertain

BATCH_SIZE = 1000
INSERT_CHUNK = 50
SETTLED = {BatchState.SENT, BatchState.FAILED, BatchState.AMBIGUOUS}
CANCELLED_ERROR = "cancelled before it was sent"
AMBIGUOUS_ERROR = "the worker stopped mid-send; some recipients may have received it"
#: A batch whose ids span more than this many times its size (one of a rare topic variant, its recipients
#: spread over the list) is read by its ids; a denser one by a range scan, dropping the rows between (reading
#: a few thousand rows costs less than binding a thousand ids).
SPARSE_SPAN = 8
#: Twice the send actor's time limit: no live worker can still be sending such a batch.
STUCK_AFTER = dt.timedelta(minutes=30)


@dataclass(frozen=True)
class RetryPolicy:
    """How often a throttled batch is tried, and how long to wait between tries without a Retry-After."""

    attempts: int = 5
    min_wait: float = 1.0
    max_wait: float = 60.0
    sleep: Callable[[float], None] = time.sleep

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(attempts=settings.sendgrid_max_attempts)


def deliverable() -> ColumnElement[bool]:
    """Who gets a digest, as a condition on ``Subscriber`` rows: confirmed, not suppressed, not paused.

    Checked twice: when a send is cut into batches and again when each batch goes out, so an
    unsubscribe, a bounce or a pause in between still counts.
    """
    return and_(Subscriber.state == SubscriberState.CONFIRMED, Subscriber.suppressed_at.is_(None),
                Subscriber.paused.is_(False))


def recipients_query() -> Select[tuple[int]]:
    """The ids of who gets a digest (``deliverable()``), in id order (batches are id ranges)."""
    return select(Subscriber.id).where(deliverable()).order_by(Subscriber.id)


def recipient_count(session: Session) -> int:
    """How many would get a digest sent now (counted by the database, not by loading the ids)."""
    return session.scalar(select(func.count()).select_from(recipients_query().order_by(None).subquery())) or 0


def start_send(session: Session, digest_id: int, batch_size: int = BATCH_SIZE, *,
               settings: Settings | None = None) -> list[int]:
    """Snapshot the recipients into pending batches; idempotent (a digest is cut into batches once).

    Recipients are grouped by the variant their topics pick (``services.delivery.variants``): each batch
    holds one variant's recipients in id order, and a variant with no section gets no batch (its recipients
    are counted on it, and sent nothing). ``settings`` are for rendering the variants (the booted runtime's
    when not given: ``services.core.runtime.current``). Returns the batch
    ids. Raises ``UnknownDigest``, or ``EmptyDigest`` for a digest not yet being sent whose mail has no
    body (``Digest.has_body``).
    """
    digest = session.get(Digest, digest_id, with_for_update=True)
    if digest is None:
        raise UnknownDigest(f"no digest with id {digest_id}")
    existing = list(session.scalars(select(DeliveryBatch.id).where(DeliveryBatch.digest_id == digest_id)
                                    .order_by(DeliveryBatch.number)))
    if existing or digest.state in (DigestState.SENDING, DigestState.SENT):
        return existing
    if not digest.has_body:
        raise EmptyDigest(f"the digest of {digest.week} has an empty body (its rendering never finished); "
                          "nothing was sent")
    cutter = variants.VariantCutter(session, settings or runtime.current().settings, digest)
    batch_ids: list[int] = []
    rows: list[dict[str, object]] = []
    open_batches: dict[int, list[int]] = {}  # variant id -> the ids of its batch being filled

    def cut(variant_id: int, subscriber_ids: list[int]) -> None:
        nonlocal rows, batch_ids
        rows.append({"digest_id": digest_id, "number": len(batch_ids) + len(rows) + 1, "variant_id": variant_id,
                     "subscriber_ids": subscriber_ids, "recipient_count": len(subscriber_ids),
                     "state": BatchState.PENDING, "attempts": 0, "created_at": utcnow()})
        if len(rows) == INSERT_CHUNK:
            batch_ids += session.scalars(insert(DeliveryBatch).returning(DeliveryBatch.id), rows)
            rows = []

    # Streamed: a million ids never sit in memory at once, only one open batch per variant.
    found = session.execute(select(Subscriber.id, variants.topics_text()).where(deliverable())
                            .order_by(Subscriber.id).execution_options(yield_per=batch_size))
    counts, sendable = cutter.counts, {}
    last_topics: object = sendable  # no row's topics: the first row looks its variant up
    variant_id, members = 0, []
    for subscriber_id, stored_topics in found:
        if stored_topics != last_topics:  # neighbours mostly share their topics (often none): one look-up per run
            last_topics = stored_topics
            variant = cutter.variant_for(stored_topics)
            variant_id, sendable[variant.id] = variant.id, bool(variant.section_ids)
            members = open_batches.setdefault(variant_id, [])
        members.append(subscriber_id)
        if len(members) == batch_size:
            _close_batch(variant_id, members, sendable[variant_id], counts, cut)
            members = open_batches[variant_id] = []
    for variant_id, members in open_batches.items():
        _close_batch(variant_id, members, sendable[variant_id], counts, cut)
    if rows:
        batch_ids += session.scalars(insert(DeliveryBatch).returning(DeliveryBatch.id), rows)
    cutter.finish()
    if session.get(DigestSend, digest_id) is None:
        session.add(DigestSend(digest_id=digest_id, control=SendControl.RUNNING))
    digest.state = DigestState.SENDING
    session.flush()
    if batch_ids:  # one event hands out every batch: a thousand events would cost a thousand handler runs
        events.record(session, "delivery.batches_ready", batch_ids=batch_ids, digest_id=digest_id)
    if not batch_ids:
        _finish_digest(session, digest)
    return batch_ids


def _close_batch(variant_id: int, members: list[int], sendable: bool, counts: dict[int, int],
                 cut: Callable[[int, list[int]], None]) -> None:
    """Count a variant's filled (or last) batch, and cut it unless the variant has no section to send."""
    counts[variant_id] = counts.get(variant_id, 0) + len(members)
    if members and sendable:
        cut(variant_id, members)


def recipients_for(settings: Settings, digest_id: int, sections: list[dict[str, Any]], batch_id: int,
                   subscribers: list[tuple[int, str]]) -> list[Recipient]:
    """Each recipient's signed links (as marker values), List-Unsubscribe header and tracking ids.

    ``sections`` are those the recipients get: each side of a comparison gets a ship and a skip vote link,
    all of a recipient's sharing one ballot token (``LinkSigner.links_for``). The one-click
    ``List-Unsubscribe-Post`` is the same for all, so it is among ``digest_headers``.
    """
    # Each vote marker with what follows the ballot in its URL: the same for every recipient.
    votes = [(placeholders.vote(int(side["tool_id"]), call), f"/{int(side['tool_id'])}/{call}")
             for section in sections for side in section.get("sides", ()) for call in Call]
    mailto = settings.unsubscribe_mailto
    digest_ref, batch_ref = str(digest_id), str(batch_id)  # custom_args values are strings
    unsubscribe_key, preferences_key = placeholders.UNSUBSCRIBE, placeholders.PREFERENCES
    addresses = dict(subscribers)
    recipients = []
    append = recipients.append
    signer = LinkSigner(settings)
    token_at = len(signer.base) + len(links.UNSUBSCRIBE_PATH)  # where an unsubscribe URL's token starts
    # The hot loop of a send: every dict built here goes into the request body as it is.
    for subscriber_id, unsubscribe, preferences, ballot in signer.links_for(addresses, digest_id):
        values = {unsubscribe_key: unsubscribe, preferences_key: preferences}
        for marker, tail in votes:
            values[marker] = ballot + tail
        list_unsubscribe = f"<{unsubscribe}>"
        if mailto:
            list_unsubscribe += f", <mailto:{mailto}?subject=unsubscribe%20{unsubscribe[token_at:]}>"
        append(Recipient(addresses[subscriber_id], values, {"List-Unsubscribe": list_unsubscribe},
                         {"digest_id": digest_ref, "batch_id": batch_ref, "subscriber_id": str(subscriber_id)}))
    return recipients


def send_batch(sessions: sessionmaker[Session], settings: Settings, mailer: Mailer, batch_id: int,
               message_id: str, retry: RetryPolicy | None = None) -> BatchState:
    """Send one batch at most once; returns the batch's state afterwards (``pending`` while paused).

    Takes a session factory, not a session, because it must commit midway: the claim
    (``pending → sending``) commits before the mail service is called, and the outcome is written in a
    transaction of its own afterwards, so a crash in between leaves the batch ``sending`` (ambiguous),
    never unclaimed. Raises ``BatchNotFound``.
    """
    retry = retry or RetryPolicy.from_settings(settings)
    with sessions() as session, session.begin():
        # Plain column reads and one UPDATE … RETURNING: this runs a thousand times per million recipients.
        found = session.execute(
            select(DeliveryBatch.state, DeliveryBatch.digest_id, DigestSend.control, DeliveryBatch.variant_id)
            .join(DigestSend, DigestSend.digest_id == DeliveryBatch.digest_id, isouter=True)
            .where(DeliveryBatch.id == batch_id)).one_or_none()
        if found is None:
            raise BatchNotFound(f"no batch with id {batch_id}")
        state, digest_id, control, variant_id = found
        if state == BatchState.PENDING and control == SendControl.PAUSED:
            return state  # resume() hands the batch out again
        if state == BatchState.PENDING and control == SendControl.CANCELLED:
            _close(session, batch_id, digest_id, BatchState.FAILED, CANCELLED_ERROR)
            return BatchState.FAILED
        subscriber_ids = session.execute(
            update(DeliveryBatch)
            .where(DeliveryBatch.id == batch_id, DeliveryBatch.state == BatchState.PENDING)
            .values(state=BatchState.SENDING, claimed_by=message_id, started_at=utcnow(),
                    attempts=DeliveryBatch.attempts + 1)
            .returning(DeliveryBatch.subscriber_ids)
            .execution_options(synchronize_session=False)
        ).scalar_one_or_none()
        if subscriber_ids is None:
            state, claimed_by = session.execute(select(DeliveryBatch.state, DeliveryBatch.claimed_by)
                                                .where(DeliveryBatch.id == batch_id)).one()
            if state == BatchState.SENDING and claimed_by == message_id:
                _close(session, batch_id, digest_id, BatchState.AMBIGUOUS, AMBIGUOUS_ERROR)
                return BatchState.AMBIGUOUS
            return state
        digest = session.execute(select(Digest.subject, Digest.html, Digest.text, Digest.week, Digest.sections)
                                 .where(Digest.id == digest_id)).one()
        subject, html, text, sections = digest.subject, digest.html, digest.text, digest.sections
        if variant_id is not None:  # the version of the mail this batch's recipients' topics picked
            variant = session.execute(select(DigestVariant.subject, DigestVariant.html, DigestVariant.text,
                                             DigestVariant.section_ids).where(DigestVariant.id == variant_id)).one()
            subject, html, text = variant.subject, variant.html, variant.text
            chosen = set(variant.section_ids)
            sections = [section for section in sections if str(section["id"]) in chosen]
        # Suppressions and unsubscribes since the snapshot apply at send time. A batch of adjacent ids is
        # read with one range scan (a thousand bound parameters cost more than the rows); one of a rare
        # variant, spread over the list, by its ids.
        wanted = set(subscriber_ids)
        low, high = min(wanted, default=0), max(wanted, default=-1)
        among = Subscriber.id.between(low, high) if high - low < SPARSE_SPAN * len(wanted) else \
            Subscriber.id.in_(subscriber_ids)
        subscribers = [(subscriber_id, address) for subscriber_id, address in session.execute(
            select(Subscriber.id, Subscriber.email).where(among, deliverable()).order_by(Subscriber.id))
            if subscriber_id in wanted]
        mail = BatchMail(subject=subject, html=html or "", text=text or "", categories=("digest", digest.week),
                         recipients=recipients_for(settings, digest_id, sections, batch_id, subscribers),
                         headers=digest_headers(settings, digest_id, digest.week))
    state, error = _hand_off(mailer, mail, retry)
    # The request is done: keep trying to write its outcome through a database hiccup (never send again).
    for attempt in Retrying(stop=stop_after_attempt(5), wait=wait_exponential(min=0.5, max=10), reraise=True,
                            retry=retry_if_exception_type(OperationalError)):
        with attempt, sessions() as session, session.begin():
            _close(session, batch_id, digest_id, state, error)
    return state


def _hand_off(mailer: Mailer, mail: BatchMail, retry: RetryPolicy) -> tuple[BatchState, str | None]:
    """Send the batch, trying again only while nothing was accepted; the ledger state it ends in."""
    if not mail.recipients:
        return BatchState.SENT, None
    backoff = wait_exponential(multiplier=retry.min_wait, min=retry.min_wait, max=retry.max_wait)

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, Throttled) and exc.retry_after is not None:
            return exc.retry_after
        return backoff(state)

    try:
        for attempt in Retrying(stop=stop_after_attempt(retry.attempts), wait=wait, sleep=retry.sleep,
                                retry=retry_if_exception_type(Throttled), reraise=True):
            with attempt:
                mailer.send_batch(mail)
    except Throttled as exc:
        return BatchState.FAILED, limits.clip(f"gave up after {retry.attempts} attempts: {exc}", limits.ERROR_TEXT)
    except Rejected as exc:
        return BatchState.FAILED, limits.clip(str(exc), limits.ERROR_TEXT)
    except Uncertain as exc:
        return BatchState.AMBIGUOUS, limits.clip(f"may have been sent: {exc}", limits.ERROR_TEXT)
    except Exception as exc:  # noqa: BLE001 - an unknown failure might have sent some: never lose it silently
        return BatchState.AMBIGUOUS, limits.clip(f"{type(exc).__name__}: {exc}", limits.ERROR_TEXT)
    return BatchState.SENT, None


def _close(session: Session, batch_id: int, digest_id: int, state: BatchState, error: str | None) -> None:
    session.execute(update(DeliveryBatch).where(DeliveryBatch.id == batch_id)
                    .values(state=state, error=error, finished_at=utcnow())
                    .execution_options(synchronize_session=False))
    if state != BatchState.SENT:  # ops are alerted to these; a plain success needs no event of its own
        events.record(session, f"delivery.batch_{state}", batch_id=batch_id, digest_id=digest_id)
    settle(session, digest_id)


def settle(session: Session, digest_id: int) -> None:
    """Mark the digest sent once none of its batches is left open (pending or sending)."""
    # The row lock serialises the last batches of a digest, so exactly one of them sees none left open.
    session.execute(select(Digest.id).where(Digest.id == digest_id).with_for_update())
    open_batches = session.scalar(
        select(func.count()).select_from(DeliveryBatch)
        .where(DeliveryBatch.digest_id == digest_id, DeliveryBatch.state.not_in(SETTLED))
    )
    if open_batches == 0:
        digest = session.get(Digest, digest_id)
        if digest is not None:
            _finish_digest(session, digest)


def _finish_digest(session: Session, digest: Digest) -> None:
    if digest.state != DigestState.SENT:
        digest.state = DigestState.SENT
        digest.sent_at = utcnow()
        events.record(session, "digest.sent", digest_id=digest.id, week=digest.week)


def close_stuck(session: Session, older_than: dt.timedelta = STUCK_AFTER) -> int:
    """Batches still ``sending`` long after any worker could be busy with them turn ambiguous.

    A redelivered message settles a batch whose worker died; this covers the rarer case where the
    outcome could not be written at all (the database was unreachable after the request), so no
    send waits forever. Returns how many batches it closed.
    """
    stuck = list(session.execute(select(DeliveryBatch.id, DeliveryBatch.digest_id).where(
        DeliveryBatch.state == BatchState.SENDING, DeliveryBatch.started_at < utcnow() - older_than)))
    for batch_id, digest_id in stuck:
        _close(session, batch_id, digest_id, BatchState.AMBIGUOUS,
               f"no outcome recorded within {older_than}; some recipients may have received it")
    return len(stuck)
