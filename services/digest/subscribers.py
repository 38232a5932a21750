"""Subscribing with double opt-in: a pending row and a signed confirmation link, then a welcome."""

from __future__ import annotations

from sqlalchemy import select

from services.core import links
from services.core.db.base import utcnow
from services.core.db.models import Subscriber
from services.core.domain import OutgoingMail, SubscriberState
from services.core.runtime import Runtime
from services.core.tokens import TokenError, unsign
from services.digest.mailers import mailer_for
from services.digest.render import EmailRenderer

CONFIRM_MAX_AGE_SECONDS = 7 * 24 * 3600


def subscribe(rt: Runtime, address: str) -> None:
    """Create or re-invite a pending subscriber; a confirmed one is left as it is."""
    with rt.sessions() as session, session.begin():
        subscriber = session.scalar(select(Subscriber).where(Subscriber.email == address))
        if subscriber is None:
            subscriber = Subscriber(email=address)
            session.add(subscriber)
            session.flush()
        elif subscriber.state == SubscriberState.CONFIRMED.value:
            return
        subscriber.state = SubscriberState.PENDING.value
        subscriber_id = subscriber.id
    _mail(rt, "confirm_subscription", address, {"confirm_url": links.confirm(rt.settings, subscriber_id)})


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
    if newly:
        _mail(rt, "welcome", subscriber.email, {
            "unsubscribe_url": links.unsubscribe(rt.settings, subscriber.id),
            "preferences_url": links.preferences(rt.settings, subscriber.id),
            "index_url": f"{rt.settings.public_url}/",
        })
    return subscriber


def _mail(rt: Runtime, template: str, address: str, context: dict[str, str]) -> None:
    rendered = EmailRenderer(rt.settings.email_templates_dir).render(
        template, {"postal_address": rt.settings.postal_address, **context})
    mailer_for(rt.settings).send(OutgoingMail(to=address, subject=rendered.subject, html=rendered.html,
                                              text=rendered.text, categories=(template,)))
