"""Signed, expiring tokens for links in mail (confirm, unsubscribe, preferences, votes).

Tokens are itsdangerous' URL-safe timed serializer (compact JSON payload, a timestamp, a signature
with a key derived per purpose from the secret: ``verdicts:{purpose}`` is the salt). The signature is
keyed BLAKE2b with a 20-byte tag (``KeyedBlake2b``): keyed BLAKE2 is functionally a MAC (RFC 7693's
abstract and section 2.5), and it costs one pass where HMAC-SHA1 (itsdangerous' default) costs two, which matters
when a send mints three tokens for each of a million recipients (``services.delivery.link_signing``).
Tokens signed with HMAC-SHA1 before that change keep verifying (``unsign`` tries both), so no link
already in an inbox stops working.
"""

from __future__ import annotations

import hashlib
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from itsdangerous.signer import SigningAlgorithm

#: The tag's length: as long as the HMAC-SHA1 tags of older links (27 URL-safe base64 characters).
SIGNATURE_BYTES = 20


class TokenError(ValueError):
    """The token is tampered with, expired, or made for another purpose."""


class KeyedBlake2b(SigningAlgorithm):
    """itsdangerous' signing step as keyed BLAKE2b (``hashlib.blake2b(value, key=key)``), a ``SIGNATURE_BYTES`` tag.

    Its verification is the base class's constant-time comparison.
    """

    def get_signature(self, key: bytes, value: bytes) -> bytes:
        return hashlib.blake2b(value, key=key, digest_size=SIGNATURE_BYTES).digest()


def _serializer(secret: str, purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=f"verdicts:{purpose}", signer_kwargs={"algorithm": KeyedBlake2b()})


def _legacy_serializer(secret: str, purpose: str) -> URLSafeTimedSerializer:
    """The HMAC-SHA1 tokens of links mailed before ``KeyedBlake2b``: still read, never minted."""
    return URLSafeTimedSerializer(secret, salt=f"verdicts:{purpose}")


def sign(secret: str, purpose: str, value: Any) -> str:
    return _serializer(secret, purpose).dumps(value)


def unsign(secret: str, purpose: str, token: str, max_age_seconds: int | None = None) -> Any:
    """The value ``token`` was signed with for ``purpose``; raises ``TokenError`` when it is tampered with,
    signed for another purpose or with another secret, or older than ``max_age_seconds``."""
    try:
        try:
            return _serializer(secret, purpose).loads(token, max_age=max_age_seconds)
        except SignatureExpired:
            raise
        except BadSignature:
            return _legacy_serializer(secret, purpose).loads(token, max_age=max_age_seconds)
    except SignatureExpired as exc:
        raise TokenError("this link has expired") from exc
    except BadSignature as exc:
        raise TokenError("this link is not valid") from exc
