"""Secrets and signatures of the Standard Webhooks spec (https://www.standardwebhooks.com/,
spec/standard-webhooks.md): the ``webhook-id``, ``webhook-timestamp`` and ``webhook-signature`` headers,
the signature an HMAC-SHA256 over ``id.timestamp.body`` made by the ``standardwebhooks`` package."""

from __future__ import annotations

import base64
import datetime as dt
import math
import secrets

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"
#: The spec asks for a secret of 24 to 64 random bytes; 32 is what its reference libraries generate.
SECRET_BYTES = 32


def new_secret() -> str:
    """A fresh endpoint secret: ``whsec_`` and 32 random bytes in base64 (as the spec writes secrets)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def new_message_id() -> str:
    """A message's ``webhook-id``: ``msg_`` and 32 hex digits, unique per message, kept across its retries."""
    return "msg_" + secrets.token_hex(16)


def shown_secret(secret: str) -> str:
    """The part of a secret a list may show (its prefix and first four characters), to tell two apart."""
    return secret[: len(SECRET_PREFIX) + 4] + "…"


def signed_headers(secret: str, message_id: str, body: str, at: dt.datetime) -> dict[str, str]:
    """The headers of one attempt: the three Standard Webhooks headers, signed for ``body`` (the exact text
    sent) at ``at`` (an aware UTC datetime; the timestamp is its whole seconds since the epoch), and the
    content type. Raises ``ValueError`` (binascii) for a secret that is not base64."""
    signature = Webhook(secret).sign(message_id, at, body)
    return {"webhook-id": message_id, "webhook-timestamp": str(math.floor(at.timestamp())),
            "webhook-signature": signature, "content-type": "application/json"}
