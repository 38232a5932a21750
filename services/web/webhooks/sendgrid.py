"""``POST /webhooks/sendgrid``: SendGrid's signed Event Webhook, verified over the raw body.

413 for a body longer than ``VERDICTS_WEBHOOK_MAX_BYTES``, 403 for a bad signature, 400 for a body
that is not a JSON array (malformed, or nested too deep to parse). A good post is stored as received and
answered 200 with ``{"batch": id, "events": n}``; a worker applies its events later
(``services.delivery.webhook_processing``), so the answer comes quickly whatever the post holds.
"""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from services.delivery import webhook_events
from services.web.db import DbSession

router = APIRouter()


@router.post("/webhooks/sendgrid")
async def sendgrid_events(request: Request, session: DbSession) -> JSONResponse:
    settings = request.app.state.runtime.settings
    if settings.sendgrid_webhook_key is None:
        return JSONResponse({"error": "VERDICTS_SENDGRID_WEBHOOK_KEY is not set"}, status_code=503)
    raw = await _capped_body(request, settings.webhook_max_bytes)  # verified as received, not re-serialized
    if raw is None:
        return JSONResponse({"error": f"body larger than {settings.webhook_max_bytes} bytes"}, status_code=413)
    # Verifying (ECDSA), parsing and storing block: off the event loop, so posts do not queue behind each other.
    return await run_in_threadpool(_verified_and_stored, session, settings.sendgrid_webhook_key.get_secret_value(), raw,
                                   request.headers.get(webhook_events.SIGNATURE_HEADER),
                                   request.headers.get(webhook_events.TIMESTAMP_HEADER))


def _verified_and_stored(session: Session, key: str, raw: bytes, signature: str | None,
                         timestamp: str | None) -> JSONResponse:
    """403 unless ``signature`` and ``timestamp`` sign ``raw`` under ``key``; 400 unless ``raw`` is a JSON
    array; else ``raw`` stored as a batch in ``session``'s transaction, answered with its id and size."""
    if not webhook_events.signature_is_valid(key, raw, signature, timestamp):
        return JSONResponse({"error": "signature or timestamp not valid"}, status_code=403)
    try:
        events = orjson.loads(raw)
    except orjson.JSONDecodeError:  # also for nesting deeper than orjson's limit (1024)
        return JSONResponse({"error": "body is not JSON"}, status_code=400)
    if not isinstance(events, list):  # an element that is no event is refused alone, by the worker
        return JSONResponse({"error": "body must be a JSON array of events"}, status_code=400)
    batch = webhook_events.store(session, raw.decode("utf-8"), len(events))  # utf-8: the signature check decoded it
    return JSONResponse({"batch": batch.id, "events": batch.event_count})

async def _capped_body(request: Request, limit: int) -> bytes | None:
    """The raw body, read in chunks; None as soon as it is longer than ``limit`` bytes (the rest is left
    unread), whatever Content-Length says."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
