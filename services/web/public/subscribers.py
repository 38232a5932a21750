"""Subscribing from the public pages, with double opt-in."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from services.core.tokens import TokenError
from services.digest import subscribers
from services.web.rendering import message

router = APIRouter()


@router.post("/subscribe", response_class=HTMLResponse)
def subscribe(request: Request, email: str = Form("")) -> HTMLResponse:
    try:
        address = validate_email(email, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        return message(request, "Check the address", str(exc), 400)
    subscribers.subscribe(request.app.state.runtime, address)
    # The same answer for new, pending and confirmed addresses: nothing to learn about who is subscribed.
    return message(request, "Check your inbox", "If the address can receive mail, a confirmation link is on its way.")


@router.get("/confirm/{token}", response_class=HTMLResponse)
def confirm(request: Request, token: str) -> HTMLResponse:
    try:
        subscribers.confirm(request.app.state.runtime, token)
    except TokenError as exc:
        return message(request, "This link does not work", str(exc), 400)
    return message(request, "You're in", "Your subscription is confirmed.")
