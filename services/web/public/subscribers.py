"""Subscribing with double opt-in, one-click unsubscribe (RFC 8058) and the preferences page.

The unsubscribe and preferences links are authenticated by their signed token, not by a cookie:
a mail client's one-click POST carries no session, so those forms have no CSRF token.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from services.core import limits, links
from services.core.addresses import InvalidAddress, mailable_identity
from services.core.db.models import Subscriber
from services.core.domain import SubscriberState
from services.core.topics import TooManyTopics, normalized
from services.delivery import subscribe_limits, subscribers
from services.web.db import DbSession
from services.web.rendering import message, page

router = APIRouter()
SAME_ANSWER = "If the address can receive mail, a confirmation link is on its way."


def request_subscription(request: Request, session: Session, email: str,
                         topics: list[str] | None = None) -> tuple[int, str, dict[str, str]]:
    """The shared path of the form and the JSON API: (status, text, headers). The same text whatever the list holds.

    429 with a ``Retry-After`` header once the client address used up its window.

    400 with the reason for an address that is not one, or that the mailer cannot deliver to
    (``services.core.addresses.mailable_identity``), or for more than ``topics.MAX_TOPICS`` topics.
    ``topics`` (names or slugs) are normalized and kept for a new or pending subscriber.

    Renders and sends nothing: ``subscribers.subscribe`` records the confirmation as due in the
    request's transaction, whatever the address's state, and a worker mails it.
    """
    settings = request.app.state.runtime.settings
    client = request.client.host if request.client else "unknown"
    if not subscribe_limits.allowed(settings, "ip", client):
        return (429, "Too many subscription requests from your network; try again later.",
                {"Retry-After": str(subscribe_limits.retry_after(settings, time.time()))})
    try:
        address = mailable_identity(email, settings.mailer_smtputf8)
        picked = None if topics is None else normalized(topics)
    except (InvalidAddress, TooManyTopics) as exc:
        return 400, str(exc), {}
    if subscribe_limits.allowed(settings, "address", address):
        subscribers.subscribe(session, address, smtputf8=settings.mailer_smtputf8, topics=picked)
    return 200, SAME_ANSWER, {}


@router.post(links.SUBSCRIBE_PATH, response_class=HTMLResponse)
def subscribe(request: Request, session: DbSession, email: str = Form("", max_length=limits.EMAIL)) -> HTMLResponse:
    status, text, headers = request_subscription(request, session, email)
    title = {200: "Check your inbox", 400: "Check the address"}.get(status, "Slow down")
    answer = message(request, title, text, status)
    answer.headers.update(headers)
    return answer


@router.get(links.CONFIRM_PATH + "{token}", response_class=HTMLResponse)
def confirm(request: Request, token: str, session: DbSession) -> HTMLResponse:
    subscribers.confirm(session, request.app.state.runtime.settings.secret(), token)  # the welcome is recorded as due
    return message(request, "You're in", "Your subscription is confirmed.")


@router.get(links.UNSUBSCRIBE_PATH + "{token}", response_class=HTMLResponse)
def unsubscribe_page(request: Request, token: str, session: DbSession) -> HTMLResponse:
    """A page with a button: link scanners follow GETs, and must not unsubscribe anyone."""
    subscriber = subscribers.subscriber_for(session, request.app.state.runtime.settings.secret(), links.UNSUBSCRIBE,
                                            token)
    return page(request, "unsubscribe.html", email=subscriber.email, token=token,
                done=subscriber.state == SubscriberState.UNSUBSCRIBED)


@router.post(links.UNSUBSCRIBE_PATH + "{token}", response_class=HTMLResponse)
def unsubscribe(request: Request, token: str, session: DbSession) -> HTMLResponse:
    """RFC 8058 one-click (body ``List-Unsubscribe=One-Click``) and the page's button: unsubscribe at once."""
    subscriber = subscribers.subscriber_for(session, request.app.state.runtime.settings.secret(), links.UNSUBSCRIBE,
                                            token)
    subscribers.unsubscribe(subscriber)
    return message(request, "You're unsubscribed", f"{subscriber.email} will get no further digest.")


def _preferences(request: Request, session: Session, subscriber: Subscriber, token: str, saved: bool) -> HTMLResponse:
    """The page: the pause switch and the topics offered (``subscribers.topic_choices``), with any topic the
    subscriber kept that no approved tool has any more, labelled by its slug."""
    unsubscribe_token = links.unsubscribe(request.app.state.runtime.settings, subscriber.id).rsplit("/", 1)[1]
    choices = dict(subscribers.topic_choices(session))
    for topic in subscriber.topics or []:
        choices.setdefault(topic, topic.replace("-", " "))
    return page(request, "prefs.html", subscriber=subscriber, token=token, unsubscribe_token=unsubscribe_token,
                saved=saved, topics=sorted(choices.items(), key=lambda choice: choice[1].lower()))


@router.get(links.PREFERENCES_PATH + "{token}", response_class=HTMLResponse)
def preferences_page(request: Request, token: str, session: DbSession) -> HTMLResponse:
    secret = request.app.state.runtime.settings.secret()
    subscriber = subscribers.subscriber_for(session, secret, links.PREFERENCES, token)
    return _preferences(request, session, subscriber, token, False)


@router.post(links.PREFERENCES_PATH + "{token}", response_class=HTMLResponse)
async def save_preferences(request: Request, token: str, session: DbSession) -> HTMLResponse:
    """Pause or resume, and the topics ticked (none: the whole digest); topics not offered are dropped."""
    subscriber = subscribers.subscriber_for(session, request.app.state.runtime.settings.secret(), links.PREFERENCES,
                                            token)
    form = await request.form()
    subscribers.update_preferences(session, subscriber, paused=form.get("paused") == "on",
                                   topics=[str(topic) for topic in form.getlist("topics")])
    return _preferences(request, session, subscriber, token, True)
