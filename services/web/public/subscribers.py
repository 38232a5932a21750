"""Subscribing with double opt-in, one-click unsubscribe (RFC 8058) and the preferences page.

The unsubscribe and preferences links are authenticated by their signed token, not by a cookie:
a mail client's one-click POST carries no session, so those forms have no CSRF token.
"""

from __future__ import annotations

from email_validator import EmailNotValidError
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from services.core import links
from services.core.tokens import TokenError
from services.delivery import subscribe_limits, subscribers
from services.web.rendering import message, page

router = APIRouter()
SAME_ANSWER = "If the address can receive mail, a confirmation link is on its way."


def request_subscription(request: Request, email: str) -> tuple[int, str]:
    """The shared path of the form and the JSON API: (status, text). The same text whatever the list holds."""
    rt = request.app.state.runtime
    client = request.client.host if request.client else "unknown"
    if not subscribe_limits.allowed(rt.settings, "ip", client):
        return 429, "Too many subscription requests from your network; try again later."
    try:
        address = subscribers.normalize(email)
    except EmailNotValidError as exc:
        return 400, str(exc)
    if subscribe_limits.allowed(rt.settings, "address", address):
        subscribers.subscribe(rt, address)
    return 200, SAME_ANSWER


@router.post("/subscribe", response_class=HTMLResponse)
def subscribe(request: Request, email: str = Form("")) -> HTMLResponse:
    status, text = request_subscription(request, email)
    title = {200: "Check your inbox", 400: "Check the address"}.get(status, "Slow down")
    return message(request, title, text, status)


@router.get("/confirm/{token}", response_class=HTMLResponse)
def confirm(request: Request, token: str) -> HTMLResponse:
    try:
        subscribers.confirm(request.app.state.runtime, token)
    except TokenError as exc:
        return message(request, "This link does not work", str(exc), 400)
    return message(request, "You're in", "Your subscription is confirmed.")


@router.get("/unsubscribe/{token}", response_class=HTMLResponse)
def unsubscribe_page(request: Request, token: str) -> HTMLResponse:
    """A page with a button: link scanners follow GETs, and must not unsubscribe anyone."""
    try:
        subscriber = subscribers.subscriber_for(request.app.state.runtime, links.UNSUBSCRIBE, token)
    except TokenError as exc:
        return message(request, "This link does not work", str(exc), 400)
    return page(request, "unsubscribe.html", email=subscriber.email, token=token,
                done=subscriber.state == "unsubscribed")


@router.post("/unsubscribe/{token}", response_class=HTMLResponse)
def unsubscribe(request: Request, token: str) -> HTMLResponse:
    """RFC 8058 one-click (body ``List-Unsubscribe=One-Click``) and the page's button: unsubscribe at once."""
    try:
        subscriber = subscribers.subscriber_for(request.app.state.runtime, links.UNSUBSCRIBE, token)
    except TokenError as exc:
        return message(request, "This link does not work", str(exc), 400)
    subscribers.unsubscribe(request.app.state.runtime, subscriber.id)
    return message(request, "You're unsubscribed", f"{subscriber.email} will get no further digest.")


@router.get("/prefs/{token}", response_class=HTMLResponse)
def preferences_page(request: Request, token: str) -> HTMLResponse:
    try:
        subscriber = subscribers.subscriber_for(request.app.state.runtime, links.PREFERENCES, token)
    except TokenError as exc:
        return message(request, "This link does not work", str(exc), 400)
    return page(request, "prefs.html", subscriber=subscriber, token=token, categories=subscribers.CATEGORIES,
                unsubscribe_token=links.unsubscribe(request.app.state.runtime.settings, subscriber.id).rsplit("/", 1)[1],
                saved=False)


@router.post("/prefs/{token}", response_class=HTMLResponse)
async def save_preferences(request: Request, token: str) -> HTMLResponse:
    rt = request.app.state.runtime
    try:
        subscriber = subscribers.subscriber_for(rt, links.PREFERENCES, token)
    except TokenError as exc:
        return message(request, "This link does not work", str(exc), 400)
    form = await request.form()
    subscribers.update_preferences(rt, subscriber.id, paused=form.get("paused") == "on",
                                   categories=[str(c) for c in form.getlist("categories")])
    subscriber = subscribers.subscriber_for(rt, links.PREFERENCES, token)
    return page(request, "prefs.html", subscriber=subscriber, token=token, categories=subscribers.CATEGORIES,
                unsubscribe_token=links.unsubscribe(rt.settings, subscriber.id).rsplit("/", 1)[1], saved=True)
