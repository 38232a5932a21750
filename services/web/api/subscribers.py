"""``POST /api/subscribers``: subscribe from JSON (double opt-in, the same answer for every address)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from services.web.db import DbSession
from services.web.public.subscribers import request_subscription

router = APIRouter(prefix="/api")


class SubscribeRequest(BaseModel):
    email: str


@router.post("/subscribers", status_code=202)
def subscribe(request: Request, body: SubscribeRequest, session: DbSession) -> JSONResponse:
    status, text, headers = request_subscription(request, session, body.email)
    return JSONResponse({"status": "accepted" if status == 200 else "refused", "message": text},
                        status_code=202 if status == 200 else status, headers=headers)
