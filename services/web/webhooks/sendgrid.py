"""``POST /webhooks/sendgrid``: SendGrid's signed Event Webhook, verified over the raw body.

413 for a body longer than ``VERDICTS_WEBHOOK_MAX_BYTES``, 403 for a bad signature, 400 for a body
that is not a JSON array (malformed, or nested too deep to parse).
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

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
    if not webhook_events.signature_is_valid(
            settings.sendgrid_webhook_key.get_secret_value(), raw,
            request.headers.get(webhook_events.SIGNATURE_HEADER), request.headers.get(webhook_events.TIMESTAMP_HEADER)):
        return JSONResponse({"error": "signature or timestamp not valid"}, status_code=403)
    try:
        events = json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the interpreter's recursion limit
        return JSONResponse({"error": "body is not JSON"}, status_code=400)
    if not isinstance(events, list):
        return JSONResponse({"error": "body must be a JSON array of events"}, status_code=400)
    outcome = webhook_events.process(session, events, settings.soft_bounce_limit)
    return JSONResponse({"processed": outcome.processed, "duplicates": outcome.duplicates,
                         "rejected": outcome.rejected})


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
