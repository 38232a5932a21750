"""Absolute URLs of public pages and of signed per-subscriber links (the URL map lives in design.md)."""

from __future__ import annotations

from services.core.settings import Settings
from services.core.tokens import sign

UNSUBSCRIBE = "unsubscribe"
PREFERENCES = "preferences"
VOTE = "vote"
CONFIRM = "confirm"


def comparison(settings: Settings, slug: str) -> str:
    return f"{settings.public_url}/c/{slug}"


def tool(settings: Settings, slug: str) -> str:
    return f"{settings.public_url}/t/{slug}"


def unsubscribe(settings: Settings, subscriber_id: int) -> str:
    return f"{settings.public_url}/unsubscribe/{sign(settings.secret(), UNSUBSCRIBE, subscriber_id)}"


def preferences(settings: Settings, subscriber_id: int) -> str:
    return f"{settings.public_url}/prefs/{sign(settings.secret(), PREFERENCES, subscriber_id)}"


def vote(settings: Settings, subscriber_id: int, tool_id: int, call: str) -> str:
    token = sign(settings.secret(), VOTE, [subscriber_id, tool_id, call])
    return f"{settings.public_url}/vote/{token}"


def confirm(settings: Settings, subscriber_id: int) -> str:
    return f"{settings.public_url}/confirm/{sign(settings.secret(), CONFIRM, subscriber_id)}"
