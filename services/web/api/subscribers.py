"""``POST /api/subscribers``: subscribe from JSON (double opt-in, the same answer for every address)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from services.core import limits
from services.core.topics import MAX_TOPICS, TOPIC_LENGTH
from services.web.db import DbSession
from services.web.public.subscribers import request_subscription

router = APIRouter(prefix="/api")


class SubscribeRequest(BaseModel):
    email: str = Field(max_length=limits.EMAIL)
    #: Topics (category names or slugs) for a new or pending subscriber; left out or empty: the whole digest.
    topics: list[Annotated[str, Field(max_length=TOPIC_LENGTH)]] | None = Field(
        default=None, max_length=MAX_TOPICS,
        description="Topics to get (tool categories, by name or slug); none: the whole digest.")


class SubscribeAnswer(BaseModel):
    status: Literal["accepted", "refused"]
    message: str


#: Throttled, it answers in the same shape (a 400 may also be the framework's, for a body that is no JSON).
ANSWERS: dict[int | str, dict[str, object]] = {429: {"model": SubscribeAnswer}}


@router.post("/subscribers", status_code=202, response_model=SubscribeAnswer, responses=ANSWERS)
def subscribe(request: Request, body: SubscribeRequest, session: DbSession) -> JSONResponse:
    status, text, headers = request_subscription(request, session, body.email, body.topics)
    return JSONResponse({"status": "accepted" if status == 200 else "refused", "message": text},
                        status_code=202 if status == 200 else status, headers=headers)
