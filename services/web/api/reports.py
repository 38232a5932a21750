"""JSON API for editors: a digest's engagement report, ``GET /api/digests/{week}/report``."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from services.core.db.models import User
from services.core.domain import Role
from services.delivery.engagement_report import report
from services.digest import compose
from services.web.auth import require_api
from services.web.db import DbSession

router = APIRouter(prefix="/api", tags=["digests"])
editor = require_api(Role.EDITOR)


class LinkClicks(BaseModel):
    url: str
    clicks: int


class ToolVotes(BaseModel):
    tool_id: int
    name: str
    slug: str
    ship: int
    skip: int


class EngagementReport(BaseModel):
    """``services.delivery.engagement_report.Report``: ``counts`` has ``delivered``, ``deferred``,
    ``bounce_hard``, ``bounce_soft``, ``dropped``, ``spamreport``, ``unsubscribe``, ``click`` (and ``open`` when
    open tracking is on); ``hourly`` the same kinds per hour over the first 72 hours of the send."""

    digest_id: int
    week: str
    subject: str
    state: str
    recipients: int = Field(description="recipients of the batches the mail service accepted")
    counts: dict[str, int]
    unique_clickers: int
    open_tracking: bool
    unique_openers: int | None
    opens_note: str | None = Field(description="why opens are left out, when they are")
    links: list[LinkClicks]
    votes: list[ToolVotes]
    started_at: str | None
    hourly: dict[str, list[int]]
    failed_webhook_batches: int = Field(description="stored webhook posts (of any digest) that failed to process")


@router.get("/digests/{week}/report", response_model=EngagementReport)
def digest_report(request: Request, week: str, session: DbSession, user: User = Depends(editor)) -> dict[str, object]:
    digest = compose.of_week(session, week)
    return report(session, digest.id, request.app.state.runtime.settings.open_tracking).as_json()
