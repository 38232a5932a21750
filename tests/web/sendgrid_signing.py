"""Signing Event Webhook posts as SendGrid signs them, and the app that verifies them with the signer's key."""

from __future__ import annotations

import base64
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient
from pydantic import SecretStr

from services.core.runtime import Runtime
from tests.web.conftest import client_with

SIGNATURE, TIMESTAMP = "X-Twilio-Email-Event-Webhook-Signature", "X-Twilio-Email-Event-Webhook-Timestamp"


class Signer:
    """A key pair like the one SendGrid keeps; the public half as its dashboard shows it (base64 DER)."""

    def __init__(self) -> None:
        self.private = ec.generate_private_key(ec.SECP256R1())
        der = self.private.public_key().public_bytes(serialization.Encoding.DER,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo)
        self.public_b64 = base64.b64encode(der).decode()

    def headers(self, raw: bytes, timestamp: str | None = None) -> dict[str, str]:
        timestamp = timestamp or str(int(time.time()))
        signature = self.private.sign(timestamp.encode() + raw, ec.ECDSA(hashes.SHA256()))
        return {SIGNATURE: base64.b64encode(signature).decode(), TIMESTAMP: timestamp,
                "Content-Type": "application/json"}


def webhook_client(rt: Runtime, signer: Signer, **settings: object) -> TestClient:
    """A client of the app over ``rt`` with ``signer``'s public key as the webhook key and ``settings`` changed."""
    return client_with(rt, sendgrid_webhook_key=SecretStr(signer.public_b64), **settings)
