"""The subscriber lifecycle: double opt-in, one-click unsubscribe, preferences, import, export, erasure.

Identity is the lower-cased address as email-validator normalises it. Nothing here tells a caller
whether an address was already on the list (no enumeration): subscribe() answers the same way.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from services.core import links
from services.core.db.base import utcnow
from services.core.db.models import Subscriber, Vote
from services.core.domain import SubscriberState
from services.core.runtime import Runtime
from services.core.tokens import TokenError, unsign
from services.mail.mailers import mailer_for
from services.mail.messages import OutgoingMail
from services.mail.render import renderer_for

CONFIRM_MAX_AGE_SECONDS = 7 * 24 * 3600
CATEGORIES = ("comparisons", "new-tools")


def normalize(address: str) -> str:
    """The identity of an address; raises EmailNotValidError with a readable reason."""
    return validate_email(address.strip(), check_deliverability=False).normalized.lower()


def subscribe(rt: Runtime, address: str) -> None:
    """Create or re-invite a pending subscriber; a confirmed one is left as it is (and gets no mail)."""
    with rt.sessions() as session, session.begin():
        subscriber_id = _pending(session, address)
    if subscriber_id is not None:
        _mail_confirmation(rt, address, subscriber_id)


def _pending(session: Session, address: str) -> int | None:
    """The id to send a confirmation to, or None when the address is already confirmed."""
    subscriber = session.scalar(select(Subscriber).where(Subscriber.email == address))
    if subscriber is None:
        subscriber = Subscriber(email=address)
        session.add(subscriber)
        session.flush()
    elif subscriber.state == SubscriberState.CONFIRMED.value:
        return None
    subscriber.state = SubscriberState.PENDING.value
    return subscriber.id


def confirm(rt: Runtime, token: str) -> Subscriber:
    subscriber_id = unsign(rt.settings.secret(), links.CONFIRM, token, CONFIRM_MAX_AGE_SECONDS)
    with rt.sessions() as session, session.begin():
        subscriber = session.get(Subscriber, int(subscriber_id))
        if subscriber is None:
            raise TokenError("this subscription no longer exists")
        newly = subscriber.state != SubscriberState.CONFIRMED.value
        if newly:
            subscriber.state = SubscriberState.CONFIRMED.value
            subscriber.confirmed_at = utcnow()
            subscriber.unsubscribed_at = None
    if newly:
        _mail(rt, "welcome", subscriber.email, {
            "unsubscribe_url": links.unsubscribe(rt.settings, subscriber.id),
            "preferences_url": links.preferences(rt.settings, subscriber.id),
            "index_url": f"{rt.settings.public_url}/",
        })
    return subscriber


def subscriber_for(rt: Runtime, purpose: str, token: str) -> Subscriber:
    """The subscriber a mailed unsubscribe or preferences link names; TokenError when it names none."""
    subscriber_id = unsign(rt.settings.secret(), purpose, token)
    with rt.sessions() as session:
        subscriber = session.get(Subscriber, int(subscriber_id))
    if subscriber is None:
        raise TokenError("this subscription no longer exists")
    return subscriber


def unsubscribe(rt: Runtime, subscriber_id: int) -> None:
    """At once, idempotent: the address gets no further digest."""
    with rt.sessions() as session, session.begin():
        subscriber = session.get(Subscriber, subscriber_id)
        if subscriber is not None and subscriber.state != SubscriberState.UNSUBSCRIBED.value:
            subscriber.state, subscriber.unsubscribed_at = SubscriberState.UNSUBSCRIBED.value, utcnow()


def update_preferences(rt: Runtime, subscriber_id: int, paused: bool, categories: Iterable[str]) -> None:
    with rt.sessions() as session, session.begin():
        subscriber = session.get(Subscriber, subscriber_id)
        if subscriber is None:
            raise TokenError("this subscription no longer exists")
        subscriber.paused = paused
        subscriber.categories = sorted(set(categories) & set(CATEGORIES))


def forget(session: Session, address: str) -> bool:
    """Erase a subscriber and what is tied to them (votes); True if there was one."""
    subscriber = session.scalar(select(Subscriber).where(Subscriber.email == address.strip().lower()))
    if subscriber is None:
        return False
    session.execute(delete(Vote).where(Vote.subscriber_id == subscriber.id))
    session.delete(subscriber)
    return True


def add(rt: Runtime, address: str, confirmed: bool = False) -> bool:
    """Add one address; True when it was new. Unconfirmed additions get the confirmation mail."""
    identity = normalize(address)
    with rt.sessions() as session, session.begin():
        existing = session.scalar(select(Subscriber.id).where(Subscriber.email == identity))
        if existing is not None:
            return False
        subscriber = _new(identity, confirmed)
        session.add(subscriber)
        session.flush()
        subscriber_id = subscriber.id
    if not confirmed:
        _mail_confirmation(rt, identity, subscriber_id)
    return True


def _new(identity: str, confirmed: bool) -> Subscriber:
    if confirmed:
        return Subscriber(email=identity, state=SubscriberState.CONFIRMED.value, confirmed_at=utcnow())
    return Subscriber(email=identity)


# --- CSV import and export ---------------------------------------------------------------------------

@dataclass
class ImportReport:
    added: int = 0
    already: int = 0
    rejected: list[tuple[int, str, str]] = field(default_factory=list)  # (line, value, reason)


IMPORT_CHUNK = 500


def import_rows(rt: Runtime, rows: Iterable[list[str]], confirmed: bool,
                advance: Callable[[int], None] = lambda _n: None) -> ImportReport:
    """Import ``email`` rows (the first column, or the ``email`` column when a header names it).

    Addresses already on the list, or repeated in the file, are counted and left alone; bad rows
    are reported with their line number and reason, and the rest goes on.
    """
    report = ImportReport()
    seen: set[str] = set()
    chunk: list[tuple[int, str]] = []
    column = 0
    for line, row in enumerate(rows, start=1):
        if line == 1 and any(cell.strip().lower() == "email" for cell in row):
            column = [cell.strip().lower() for cell in row].index("email")
            advance(1)
            continue
        value = row[column].strip() if len(row) > column else ""
        try:
            identity = normalize(value)
        except EmailNotValidError as exc:
            report.rejected.append((line, value, str(exc)))
            advance(1)
            continue
        if identity in seen:
            report.already += 1
            advance(1)
            continue
        seen.add(identity)
        chunk.append((line, identity))
        if len(chunk) >= IMPORT_CHUNK:
            _import_chunk(rt, chunk, confirmed, report)
            advance(len(chunk))
            chunk = []
    if chunk:
        _import_chunk(rt, chunk, confirmed, report)
        advance(len(chunk))
    return report


def _import_chunk(rt: Runtime, chunk: list[tuple[int, str]], confirmed: bool, report: ImportReport) -> None:
    addresses = [identity for _line, identity in chunk]
    with rt.sessions() as session, session.begin():
        known = set(session.scalars(select(Subscriber.email).where(Subscriber.email.in_(addresses))))
        fresh = [_new(identity, confirmed) for identity in addresses if identity not in known]
        session.add_all(fresh)
        session.flush()
        to_confirm = [(s.email, s.id) for s in fresh]
    report.added += len(fresh)
    report.already += len(known)
    if not confirmed:
        for address, subscriber_id in to_confirm:
            _mail_confirmation(rt, address, subscriber_id)


def read_csv(path: str) -> Iterator[list[str]]:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        yield from csv.reader(handle)


def export_rows(session: Session) -> Iterator[list[str]]:
    yield ["email", "state", "paused", "suppressed_reason", "created_at", "confirmed_at"]
    for s in session.scalars(select(Subscriber).order_by(Subscriber.id).execution_options(yield_per=1000)):
        yield [s.email, s.state, "yes" if s.paused else "no", s.suppressed_reason or "",
               s.created_at.isoformat(), s.confirmed_at.isoformat() if s.confirmed_at else ""]


# --- mail ----------------------------------------------------------------------------------------------

def _mail_confirmation(rt: Runtime, address: str, subscriber_id: int) -> None:
    _mail(rt, "confirm_subscription", address, {"confirm_url": links.confirm(rt.settings, subscriber_id)})


def _mail(rt: Runtime, template: str, address: str, context: dict[str, str]) -> None:
    rendered = renderer_for(rt.settings.email_templates_dir).render(
        template, {"postal_address": rt.settings.postal_address, **context})
    mailer_for(rt.settings).send(OutgoingMail(to=address, subject=rendered.subject, html=rendered.html,
                                              text=rendered.text, categories=(template,)))
