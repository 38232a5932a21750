"""The subscriber lifecycle: double opt-in, one-click unsubscribe, preferences, import, export, erasure.

An address is stored and looked up by ``services.core.addresses.identity``; one coming onto the list must
also be one the mailer can deliver to (``mailable_identity``). Nothing here tells a caller
whether an address was already on the list (no enumeration): subscribe() answers the same way.

The mails a change owes (a confirmation, a welcome) are recorded as events in the change's own
transaction (``subscriber.confirmation_due``, ``subscriber.welcome_due``) and sent by a worker
(``services.delivery.actors``): nothing here renders or sends inside a request, and a change that is
stored is never left owed a mail that never comes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from services.core import events, links
from services.core.addresses import InvalidAddress, identity, mailable_identity
from services.core.csv_files import UnreadableRow
from services.core.db.base import utcnow
from services.core.db.models import Subscriber, Tool, Vote
from services.core.domain import SubscriberState, ToolState
from services.core.settings import Settings
from services.core.tokens import TokenError, unsign
from services.core.topics import TooManyTopics, normalized, topic_of
from services.delivery.errors import SubscriberLinkError
from services.mail.mailers import mailer_for
from services.mail.messages import OutgoingMail
from services.mail.render import renderer_for

CONFIRM_MAX_AGE_SECONDS = 7 * 24 * 3600
#: Separators between topics in a CSV cell (a topic may be a category name with spaces: "Developer Tools").
TOPIC_SEPARATORS = re.compile(r"[;,|]")


def topic_choices(session: Session) -> list[tuple[str, str]]:
    """The topics a subscriber may pick, as (topic, label): one per category of the approved tools
    (``services.core.topics.topic_of``), labelled by one of its names, in label order."""
    names = session.scalars(select(Tool.category).distinct()
                            .where(Tool.state == ToolState.APPROVED, Tool.category.is_not(None)))
    choices: dict[str, str] = {}
    for name in sorted(names):
        topic = topic_of(name)
        if topic:
            choices.setdefault(topic, name)
    return sorted(choices.items(), key=lambda choice: (choice[1].lower(), choice[0]))


def parse_topics(cell: str) -> list[str]:
    """A CSV cell's topics (``;``, ``,`` or ``|`` between them, names or slugs), normalized.

    Raises ``services.core.topics.TooManyTopics``.
    """
    return normalized(TOPIC_SEPARATORS.split(cell))


def subscribe(session: Session, address: str, *, smtputf8: bool, topics: list[str] | None = None) -> None:
    """Create or re-invite a pending subscriber; a confirmed one is left as it is.

    ``topics`` (normalized, ``services.core.topics.normalized``) are stored for a new or pending subscriber
    when given; a confirmed subscriber's are changed only on their preferences page.

    Whatever the address's state, records one ``subscriber.confirmation_due`` event in the caller's
    transaction and mails nothing: the worker's handler mails the confirmation only to a subscriber
    still pending, so a request takes the same path for a new, a pending and a confirmed address (no
    enumeration by timing). Raises ``InvalidAddress`` when ``address`` is not one, or is one the
    mailer cannot deliver to (``smtputf8``: settings' ``mailer_smtputf8``; see ``mailable_identity``).
    """
    address = mailable_identity(address, smtputf8)
    subscriber = session.scalar(select(Subscriber).where(Subscriber.email == address))
    if subscriber is None:
        subscriber = Subscriber(email=address, topics=topics or [])
        session.add(subscriber)
        session.flush()
    elif subscriber.state != SubscriberState.CONFIRMED:
        subscriber.state = SubscriberState.PENDING
        if topics is not None:
            subscriber.topics = topics
    events.record(session, "subscriber.confirmation_due", subscriber_id=subscriber.id)


def confirm(session: Session, secret: str, token: str) -> Subscriber | None:
    """Confirm the subscriber a confirmation link (``links.confirm``, valid 7 days) names.

    Returns the subscriber when this confirmed them, with their welcome recorded as due
    (``subscriber.welcome_due``, in the caller's transaction); None when they were confirmed already.
    Raises ``SubscriberLinkError``.
    """
    subscriber = subscriber_for(session, secret, links.CONFIRM, token, CONFIRM_MAX_AGE_SECONDS)
    if subscriber.state == SubscriberState.CONFIRMED:
        return None
    subscriber.state = SubscriberState.CONFIRMED
    subscriber.confirmed_at = utcnow()
    subscriber.unsubscribed_at = None
    events.record(session, "subscriber.welcome_due", subscriber_id=subscriber.id)
    return subscriber


def subscriber_for(session: Session, secret: str, purpose: str, token: str,
                   max_age_seconds: int | None = None) -> Subscriber:
    """The subscriber a mailed link signed for ``purpose`` names (``services.core.links``).

    Raises ``SubscriberLinkError`` when the token is tampered with, made for another purpose, older
    than ``max_age_seconds``, or names a subscription that no longer exists.
    """
    try:
        subscriber_id = unsign(secret, purpose, token, max_age_seconds)
    except TokenError as exc:
        raise SubscriberLinkError(str(exc)) from exc
    subscriber = session.get(Subscriber, int(subscriber_id))
    if subscriber is None:
        raise SubscriberLinkError("this subscription no longer exists")
    return subscriber


def unsubscribe(subscriber: Subscriber) -> None:
    """At once, idempotent: the address gets no further digest."""
    if subscriber.state != SubscriberState.UNSUBSCRIBED:
        subscriber.state, subscriber.unsubscribed_at = SubscriberState.UNSUBSCRIBED, utcnow()


def update_preferences(session: Session, subscriber: Subscriber, paused: bool, topics: Iterable[str]) -> None:
    """Pause or resume the digest, and keep those of ``topics`` that are offered (``topic_choices``) or that
    the subscriber had already (a category no approved tool has any more); none picked: the whole digest."""
    subscriber.paused = paused
    allowed = {topic for topic, _label in topic_choices(session)} | set(subscriber.topics or [])
    subscriber.topics = sorted(set(topics) & allowed)


def forget(session: Session, address: str) -> bool:
    """Erase a subscriber and what is tied to them (votes); True if there was one.

    Raises ``InvalidAddress`` when ``address`` is not one.
    """
    subscriber = by_address(session, address)
    if subscriber is None:
        return False
    session.execute(delete(Vote).where(Vote.subscriber_id == subscriber.id))
    session.delete(subscriber)
    return True


def by_address(session: Session, address: str) -> Subscriber | None:
    """The subscriber ``address`` names, in whatever case or IDN form it is spelt; None when there is none.

    Raises ``InvalidAddress`` when ``address`` is not one.
    """
    return session.scalar(select(Subscriber).where(Subscriber.email == identity(address)))


@dataclass
class Additions:
    """What adding addresses did: how many were new, how many on the list already, and how many of
    those, pending, were confirmed now (``confirmed``: on an operator's word that they opted in elsewhere)."""

    added: int = 0
    already: int = 0
    confirmed: int = 0


def add(session: Session, address: str, confirmed: bool = False, *, smtputf8: bool) -> Additions:
    """Add one address, pending or (``confirmed``) opted in elsewhere; returns what that did (``Additions``).

    See ``_add_all``. Raises ``InvalidAddress`` when ``address`` is not one, or is one the mailer cannot
    deliver to (``smtputf8``: settings' ``mailer_smtputf8``; see ``mailable_identity``).
    """
    done = Additions()
    _add_all(session, {mailable_identity(address, smtputf8): []}, confirmed, done)
    return done


def _add_all(session: Session, addresses: dict[str, list[str]], confirmed: bool, tally: Additions) -> None:
    """Add the distinct stored identities ``addresses`` (each with the topics a new subscriber gets),
    counting in ``tally`` what that did.

    Their rows are loaded once. A new address is stored pending with its confirmation recorded as due
    (``subscriber.confirmation_due``, in the caller's transaction), or, when ``confirmed``, confirmed at
    once. With ``confirmed``, an address on the list that is pending is confirmed too; a confirmed,
    unsubscribed or suppressed subscriber is left as it is: only the person undoes an unsubscribe.
    """
    known = list(session.scalars(select(Subscriber).where(Subscriber.email.in_(list(addresses)))))
    stored = {subscriber.email for subscriber in known}
    fresh = [_new(address, topics, confirmed) for address, topics in addresses.items() if address not in stored]
    session.add_all(fresh)
    session.flush()
    if confirmed:
        for subscriber in known:
            if subscriber.state == SubscriberState.PENDING:
                subscriber.state, subscriber.confirmed_at = SubscriberState.CONFIRMED, utcnow()
                tally.confirmed += 1
    else:
        for subscriber in fresh:
            events.record(session, "subscriber.confirmation_due", subscriber_id=subscriber.id)
    tally.added += len(fresh)
    tally.already += len(known)


def _new(address: str, topics: list[str], confirmed: bool) -> Subscriber:
    if confirmed:
        return Subscriber(email=address, topics=topics, state=SubscriberState.CONFIRMED, confirmed_at=utcnow())
    return Subscriber(email=address, topics=topics)


# --- CSV import and export ---------------------------------------------------------------------------

@dataclass
class ImportReport(Additions):
    """What an import did (``already`` also counts addresses repeated in the file), and the rows it rejected."""

    rejected: list[tuple[int, str, str]] = field(default_factory=list)  # (row, value, reason)

    @property
    def imported_nothing(self) -> bool:
        """No row named an address that is now on the list: every row was rejected, or there was none."""
        return self.added == 0 and self.already == 0


IMPORT_CHUNK = 500


def import_rows(sessions: sessionmaker[Session], settings: Settings, rows: Iterable[list[str] | UnreadableRow],
                confirmed: bool, advance: Callable[[int], None] = lambda _n: None) -> ImportReport:
    """Import ``email`` rows (the first column, or the ``email`` column when a header names it).

    When the header also names a ``topics`` column, its cell gives a new subscriber's topics (names or
    slugs, ``;``, ``,`` or ``|`` between them: ``parse_topics``); without one, or for an empty cell, a new
    subscriber has none and gets the whole digest. A subscriber already on the list keeps their own.
    ``rows`` as ``services.core.csv_files.read_rows`` gives them. Addresses already on the list, or
    repeated in the file, are counted and left alone; bad rows (unreadable, not an address, or one the
    mailer cannot deliver to: ``mailable_identity``) are reported with their row number and reason,
    and the rest goes on. Takes a session factory,
    not a session, because it commits midway: each chunk of ``IMPORT_CHUNK`` addresses is committed
    with its confirmations recorded as due (unless ``confirmed``), so an import stopped midway leaves
    what it stored, each new pending address with its confirmation on the way. ``advance`` is told how many rows each step consumed.
    """
    report = ImportReport()
    seen: set[str] = set()
    chunk: list[tuple[int, str, list[str]]] = []
    column, topics_column = 0, None
    for line, row in enumerate(rows, start=1):
        if isinstance(row, UnreadableRow):
            report.rejected.append((line, "", str(row)))
            advance(1)
            continue
        if line == 1 and any(cell.strip().lower() == "email" for cell in row):
            header = [cell.strip().lower() for cell in row]
            column = header.index("email")
            topics_column = header.index("topics") if "topics" in header else None
            advance(1)
            continue
        value = row[column].strip() if len(row) > column else ""
        try:
            address = mailable_identity(value, settings.mailer_smtputf8)
            topics = parse_topics(row[topics_column]) if topics_column is not None and len(row) > topics_column \
                else []
        except (InvalidAddress, TooManyTopics) as exc:
            report.rejected.append((line, value, str(exc)))
            advance(1)
            continue
        if address in seen:
            report.already += 1
            advance(1)
            continue
        seen.add(address)
        chunk.append((line, address, topics))
        if len(chunk) >= IMPORT_CHUNK:
            _import_chunk(sessions, chunk, confirmed, report)
            advance(len(chunk))
            chunk = []
    if chunk:
        _import_chunk(sessions, chunk, confirmed, report)
        advance(len(chunk))
    return report


def _import_chunk(sessions: sessionmaker[Session], chunk: list[tuple[int, str, list[str]]], confirmed: bool,
                  report: ImportReport) -> None:
    with sessions() as session, session.begin():
        _add_all(session, {address: topics for _line, address, topics in chunk}, confirmed, report)


def export_rows(session: Session) -> Iterator[list[str]]:
    """Every subscriber as a row of text cells, a header first; write them with ``csv_files.write_rows``.

    ``topics`` are joined by ``;`` (empty: the whole digest), as ``import_rows`` reads them back.
    """
    yield ["email", "state", "paused", "topics", "suppressed_reason", "created_at", "confirmed_at"]
    for s in session.scalars(select(Subscriber).order_by(Subscriber.id).execution_options(yield_per=1000)):
        yield [s.email, s.state, "yes" if s.paused else "no", ";".join(s.topics or []), s.suppressed_reason or "",
               s.created_at.isoformat(), s.confirmed_at.isoformat() if s.confirmed_at else ""]


# --- mail ----------------------------------------------------------------------------------------------

# Sent by the worker's event handlers (services.delivery.actors), after the commit that owed them.

def mail_confirmation(settings: Settings, subscriber: Subscriber) -> None:
    """Mail ``subscriber`` the double opt-in link (``links.confirm``) through the configured mailer."""
    _mail(settings, "confirm_subscription", subscriber.email, {"confirm_url": links.confirm(settings, subscriber.id)})


def mail_welcome(settings: Settings, subscriber: Subscriber) -> None:
    """Mail a newly confirmed ``subscriber`` the welcome, with their unsubscribe and preferences links."""
    _mail(settings, "welcome", subscriber.email, {
        "unsubscribe_url": links.unsubscribe(settings, subscriber.id),
        "preferences_url": links.preferences(settings, subscriber.id),
        "index_url": links.index(settings),
    })


def _mail(settings: Settings, template: str, address: str, context: dict[str, str]) -> None:
    rendered = renderer_for(settings.email_templates_dir).render(
        template, {"postal_address": settings.postal_address, **context})
    mailer_for(settings).send(OutgoingMail(to=address, subject=rendered.subject, html=rendered.html,
                                           text=rendered.text, categories=(template,)))
