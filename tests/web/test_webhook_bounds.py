"""The Event Webhook's bounds: a body past the size cap is refused (413) without reading it all, and a body that
does not parse as a JSON array, however deeply nested, is a 400, never a server error."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from services.core.db.models import WebhookBatch
from services.core.runtime import Runtime
from tests.web.sendgrid_signing import Signer, webhook_client

CAP = 2048
CHUNK = 1024


def _event(n: int) -> dict[str, object]:
    return {"email": "reader@example.org", "timestamp": 1764400000, "event": "open", "sg_event_id": f"ev-{n}"}


def _stored(rt: Runtime) -> int:
    with rt.sessions() as session:
        return session.scalar(select(func.count()).select_from(WebhookBatch)) or 0


def test_a_signed_body_past_the_cap_is_refused_with_413_and_nothing_is_stored(rt: Runtime) -> None:
    # Given a webhook that takes bodies up to 2 KiB, and a genuine, signed batch larger than that
    signer = Signer()
    hook = webhook_client(rt, signer, webhook_max_bytes=CAP)
    raw = json.dumps([_event(n) for n in range(40)]).encode()
    assert len(raw) > CAP
    # When SendGrid's signature is on it, Then it is refused all the same, and nothing is stored
    assert hook.post("/webhooks/sendgrid", content=raw, headers=signer.headers(raw)).status_code == 413
    assert _stored(rt) == 0
    # And a batch within the cap goes through
    small = json.dumps([_event(1)]).encode()
    assert hook.post("/webhooks/sendgrid", content=small, headers=signer.headers(small)).status_code == 200


def test_a_body_without_content_length_is_cut_off_once_past_the_cap(rt: Runtime) -> None:
    # Given a chunked body of 100 KiB that declares no length, sent to a webhook capped at 2 KiB
    app = webhook_client(rt, Signer(), webhook_max_bytes=CAP).app
    received, sent = [], []

    async def receive() -> dict[str, object]:
        received.append(CHUNK)
        return {"type": "http.request", "body": b"[" * CHUNK, "more_body": len(received) < 100}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "https",
             "path": "/webhooks/sendgrid", "raw_path": b"/webhooks/sendgrid", "root_path": "", "query_string": b"",
             "headers": [(b"host", b"verdicts.example.org"), (b"content-type", b"application/json")],
             "server": ("verdicts.example.org", 443), "client": ("203.0.113.7", 50000)}
    # When it is posted (on a thread of its own: the session's Playwright may hold this thread's event loop)
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, app(scope, receive, send)).result()
    # Then the answer is 413, given after reading just past the cap, not the whole body
    assert sent[0]["status"] == 413
    assert sum(received) == CAP + CHUNK


@pytest.mark.parametrize("raw", [b"[" * 100_000, b'[{"sg_event_id": "ev-1", "event": "open", "x": ' + b"[" * 100_000,
                                 b"[" * 100_000 + b"]" * 100_000, b"{}", b'"events"', b"not json"],
                         ids=["unclosed-brackets", "deep-inside-an-event", "deep-but-balanced", "object", "string",
                              "not-json"])
def test_a_signed_body_that_is_not_a_json_array_is_a_400(rt: Runtime, raw: bytes) -> None:
    # Given a genuine signature over a body that is not a JSON array of events (some nested 100,000 deep)
    signer = Signer()
    hook: TestClient = webhook_client(rt, signer)
    # When it is posted, Then the answer is 400, not a server error
    response = hook.post("/webhooks/sendgrid", content=raw, headers=signer.headers(raw))
    assert response.status_code == 400, response.text
    assert _stored(rt) == 0
