"""Signed, expiring tokens for links in mail (confirm, unsubscribe, preferences, votes)."""

from __future__ import annotations

from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer


class TokenError(ValueError):
    """The token is tampered with, expired, or made for another purpose."""


def _serializer(secret: str, purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=f"verdicts:{purpose}")


def sign(secret: str, purpose: str, value: Any) -> str:
    return _serializer(secret, purpose).dumps(value)


def unsign(secret: str, purpose: str, token: str, max_age_seconds: int | None = None) -> Any:
    try:
        return _serializer(secret, purpose).loads(token, max_age=max_age_seconds)
    except SignatureExpired as exc:
        raise TokenError("this link has expired") from exc
    except BadSignature as exc:
        raise TokenError("this link is not valid") from exc
