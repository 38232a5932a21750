"""``POST /webhooks/sendgrid``: SendGrid's signed Event Webhook, verified over the raw body."""

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
    raw = await request.body()  # verified as received: re-serialized JSON would not verify
    if not webhook_events.signature_is_valid(
            settings.sendgrid_webhook_key.get_secret_value(), raw,
            request.headers.get(webhook_events.SIGNATURE_HEADER), request.headers.get(webhook_events.TIMESTAMP_HEADER)):
        return JSONResponse({"error": "signature or timestamp not valid"}, status_code=403)
    try:
        events = json.loads(raw)
    except ValueError:
        return JSONResponse({"error": "body is not JSON"}, status_code=400)
    if not isinstance(events, list):
        return JSONResponse({"error": "body must be a JSON array of events"}, status_code=400)
    outcome = webhook_events.process(session, events, settings.soft_bounce_limit)
    return JSONResponse({"processed": outcome.processed, "duplicates": outcome.duplicates,
                         "rejected": outcome.rejected})
