"""Registering, listing and removing webhook endpoints; every change goes to the audit log.

A URL is checked by the same SSRF guard as ingest (``services.core.ssrf``): http(s) only, and a host whose
addresses are all public unless private networks are allowed. The guard checks again at every attempt,
connecting only to the address it checked, so a name that later resolves somewhere private is refused then.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.core import limits, ssrf
from services.core.db.models import AuditEntry, HookDelivery, HookEndpoint
from services.core.domain import HookDeliveryState
from services.core.event_types import EventName
from services.core.text import checked_text
from services.hooks import signing
from services.hooks.errors import HookNotFound, HookRefused

#: The event types an endpoint can be told of, in the order forms and lists show them.
EVENT_TYPES: tuple[str, ...] = (EventName.TOOL_QUEUED, EventName.TOOL_APPROVED, EventName.VERDICT_COMPLETED,
                                EventName.COMPARISON_PUBLISHED, EventName.DIGEST_SENT)


@dataclass(frozen=True)
class NewEndpoint:
    """A registered endpoint and its secret, shown to the person this once (lists show only its start)."""

    endpoint: HookEndpoint
    secret: str


def _audit(session: Session, user_id: int | None, action: str, endpoint: HookEndpoint, note: str | None = None,
           **detail: object) -> None:
    session.add(AuditEntry(user_id=user_id, action=f"hook.{action}", subject=f"hook:{endpoint.id}",
                           detail={"url": endpoint.url, **detail}, note=note))


def checked_event_types(chosen: list[str]) -> list[str]:
    """``chosen`` in catalogue order, each once; raises ``HookRefused`` when empty, naming another type, or
    longer than twice the catalogue (a form cannot send more; what is not one of ours is not repeated
    back at length)."""
    if len(chosen) > 2 * len(EVENT_TYPES):
        raise HookRefused(f"{len(chosen)} event types given; there are {len(EVENT_TYPES)}: {', '.join(EVENT_TYPES)}")
    unknown = sorted(set(chosen) - set(EVENT_TYPES))
    if unknown:
        shown = ", ".join(repr(limits.clip(name, 40)) for name in unknown)
        raise HookRefused(f"unknown event type(s) {shown}; endpoints can be told of {', '.join(EVENT_TYPES)}")
    if not chosen:
        raise HookRefused("choose at least one event type")
    return [name for name in EVENT_TYPES if name in chosen]


def checked_url(url: str, allow_private_networks: bool) -> str:
    """``url`` stripped, once the SSRF guard accepts it; raises ``HookRefused`` saying why not: too long, a
    bidirectional control, malformed (a bad port, a bad bracketed host), a user name or password in it
    (every editor would see it in the list and it would be logged with each attempt: a receiver that
    wants a credential checks the signature instead), or refused by the guard."""
    url = checked_text(url, field="URL", max_length=limits.URL, required=True, plain=True, refuse=HookRefused)
    try:
        parts, _ = ssrf.split_url(url)
        if parts.username is not None or parts.password is not None:
            raise HookRefused("the URL holds a user name or password, which every editor would see; "
                              "receivers tell our messages by their signature")
        ssrf.check_url(url, allow_private_networks)
    except ssrf.GuardError as exc:
        if exc.kind in ssrf.FORBIDDEN:
            raise HookRefused(f"refused {url}: {exc}; only public addresses can be told of events") from exc
        raise HookRefused(f"refused {url}: {exc}") from exc
    return url


def register(session: Session, url: str, description: str, event_types: list[str], *, allow_private_networks: bool,
             user_id: int | None, note: str | None = None) -> NewEndpoint:
    """Store an endpoint told of ``event_types`` from now on, with a new secret; audited as ``hook.add``.

    Raises ``HookRefused`` for a URL ``checked_url`` refuses, an empty or unknown event type list, a
    description (one line; control characters dropped) longer than ``limits.HOOK_DESCRIPTION`` or holding
    a bidirectional control, or when an endpoint with this URL is already told of one of these types (a
    form sent twice would otherwise make a twin that gets every message twice, under another secret).
    """
    checked = checked_url(url, allow_private_networks)
    types = checked_event_types(event_types)
    text = checked_text(description, field="description", max_length=limits.HOOK_DESCRIPTION, plain=True,
                        refuse=HookRefused)
    _refuse_twin(session, checked, types)
    endpoint = HookEndpoint(url=checked, description=text, event_types=types, secret=signing.new_secret(),
                            created_by_id=user_id)
    session.add(endpoint)
    session.flush()
    _audit(session, user_id, "add", endpoint, note, event_types=endpoint.event_types)
    return NewEndpoint(endpoint, endpoint.secret)


def _refuse_twin(session: Session, url: str, event_types: list[str]) -> None:
    """Raise ``HookRefused`` when an endpoint with ``url`` is told of any of ``event_types`` already. Two
    registrations at once take turns (a transaction-scoped advisory lock on PostgreSQL)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(func.hashtext("hook-url:" + url))))
    for twin in session.scalars(select(HookEndpoint).where(HookEndpoint.url == url).order_by(HookEndpoint.id)):
        shared = [name for name in event_types if name in twin.event_types]
        if shared:
            raise HookRefused(f"endpoint {twin.id} already sends {', '.join(shared)} to {url}; remove it first, "
                              "or choose other event types")


def get(session: Session, endpoint_id: int) -> HookEndpoint:
    """The endpoint with this id; raises ``HookNotFound``."""
    endpoint = session.get(HookEndpoint, endpoint_id)
    if endpoint is None:
        raise HookNotFound(f"no webhook endpoint {endpoint_id}")
    return endpoint


def remove(session: Session, endpoint_id: int, *, user_id: int | None, note: str | None = None) -> HookEndpoint:
    """Delete an endpoint with its deliveries and their attempts (nothing more is sent to it); audited as
    ``hook.remove``. Raises ``HookNotFound``."""
    endpoint = get(session, endpoint_id)
    _audit(session, user_id, "remove", endpoint, note, event_types=endpoint.event_types)
    session.delete(endpoint)
    session.flush()
    return endpoint


def endpoint_rows(session: Session) -> list[dict[str, object]]:
    """Every endpoint, oldest first: ``id``, ``url``, ``description``, ``event_types``, ``secret_hint`` (the
    secret's first characters only), ``created_at`` (ISO text) and its deliveries counted by state
    (``pending``, ``succeeded``, ``failed``)."""
    counts: dict[int, dict[str, int]] = {}
    for endpoint_id, state, count in session.execute(
            select(HookDelivery.endpoint_id, HookDelivery.state, func.count())
            .group_by(HookDelivery.endpoint_id, HookDelivery.state)):
        counts.setdefault(endpoint_id, {})[str(state)] = count
    return [{"id": e.id, "url": e.url, "description": e.description, "event_types": list(e.event_types),
             "secret_hint": signing.shown_secret(e.secret), "created_at": e.created_at.isoformat(),
             **{str(state): counts.get(e.id, {}).get(str(state), 0) for state in HookDeliveryState}}
            for e in session.scalars(select(HookEndpoint).order_by(HookEndpoint.id))]
