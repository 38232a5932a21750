"""JSON API for editors and reviewers: the queue, panel calls, comparisons."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, BeforeValidator, Field, create_model
from sqlalchemy.orm import Session

from services.core import limits
from services.core.db.models import Comparison, PanelSeat, User
from services.core.domain import Call, Role
from services.core.text import clean_text
from services.review import comparisons, panel, queue
from services.review.queue import QueueFilter
from services.review.tool_edits import EDITABLE_FIELDS, ToolEdits
from services.web.api import answers
from services.web.auth import require_api
from services.web.db import DbSession
from services.web.ids import BodyRowId, RowId

router = APIRouter(prefix="/api", tags=["review"])
editor = require_api(Role.EDITOR)
reviewer = require_api(Role.REVIEWER)


def _typed(multiline: bool) -> BeforeValidator:
    """Text cleaned as the domain cleans it (``services.core.text.clean_text``) before the length checks run,
    so a value that fits once its control characters are gone is not refused for them."""
    return BeforeValidator(lambda value: clean_text(value, multiline=multiline) if isinstance(value, str) else value)


OneLine = Annotated[str, _typed(multiline=False)]
Lines = Annotated[str, _typed(multiline=True)]

#: The revision the editor saw, and an optional correction of each editable fact, as long as its column allows.
Approval = create_model(
    "Approval",
    revision=(int | None, Field(None, description="the revision you saw; a different one is a conflict")),
    **{fact.name: ((Lines if fact.multiline else OneLine) | None, Field(None, max_length=fact.max_length))
       for fact in EDITABLE_FIELDS},
)


class Rejection(BaseModel):
    reason: Lines = Field(max_length=limits.REJECT_REASON)
    revision: int | None = None


class Merge(BaseModel):
    into_id: BodyRowId
    revision: int | None = None


class Snooze(BaseModel):
    days: int = Field(7, ge=1, le=365)
    revision: int | None = None


class Bulk(BaseModel):
    action: Literal["approve", "reject", "snooze"]
    ids: list[BodyRowId] = Field(min_length=1, max_length=500)
    reason: Lines = Field("", max_length=limits.REJECT_REASON)


class PanelCall(BaseModel):
    seat_id: BodyRowId
    call: Call
    quote: Lines = Field(min_length=1, max_length=limits.QUOTE)


class NewComparison(BaseModel):
    tool_a_id: BodyRowId
    tool_b_id: BodyRowId
    headline: OneLine | None = Field(None, max_length=limits.HEADLINE)
    editor_note: Lines | None = Field(None, max_length=limits.EDITOR_NOTE)


class ComparisonEdit(BaseModel):
    headline: OneLine = Field(max_length=limits.HEADLINE)
    editor_note: Lines | None = Field(None, max_length=limits.EDITOR_NOTE)
    position: int = Field(0, ge=-limits.ROW_ID_MAX, le=limits.ROW_ID_MAX)
    swap_sides: bool = False


@router.get("/queue", response_model=answers.QueuePage)
def list_queue(session: DbSession, state: str = "candidate", source: str | None = None, category: str | None = None,
               min_score: float | None = Query(None, ge=0.0, le=1.0), q: str | None = None,
               offset: int = Query(0, ge=0, le=limits.ROW_ID_MAX), limit: int = 50,
               user: User = Depends(editor)) -> dict[str, object]:
    """Candidates newest first, filtered like the queue page."""
    found = queue.search(session, QueueFilter(state, source, category, min_score, q), offset, max(1, min(limit, 500)))
    return {"total": found.total, "offset": offset, "items": [queue.tool_row(t) for t in found.tools]}


@router.post("/queue/{tool_id}/approve", response_model=answers.ToolRow)
def approve(tool_id: RowId, body: Approval, session: DbSession, user: User = Depends(editor)) -> dict[str, object]:
    edits = ToolEdits(**body.model_dump(exclude={"revision"}))
    return queue.tool_row(queue.approve(session, tool_id, user, edits, body.revision))


@router.post("/queue/{tool_id}/reject", response_model=answers.ToolRow)
def reject(tool_id: RowId, body: Rejection, session: DbSession, user: User = Depends(editor)) -> dict[str, object]:
    return queue.tool_row(queue.reject(session, tool_id, user, body.reason, body.revision))


@router.post("/queue/{tool_id}/merge", response_model=answers.ToolRow)
def merge(tool_id: RowId, body: Merge, session: DbSession, user: User = Depends(editor)) -> dict[str, object]:
    return queue.tool_row(queue.merge(session, tool_id, body.into_id, user, body.revision))


@router.post("/queue/{tool_id}/snooze", response_model=answers.ToolRow)
def snooze(tool_id: RowId, body: Snooze, session: DbSession, user: User = Depends(editor)) -> dict[str, object]:
    return queue.tool_row(queue.snooze(session, tool_id, user, body.days, body.revision))


@router.post("/queue/bulk", response_model=answers.BulkResults)
def bulk(body: Bulk, session: DbSession, user: User = Depends(editor)) -> dict[str, object]:
    outcomes = queue.bulk(session, body.action, body.ids, user, body.reason)
    return {"results": [{"id": o.tool_id, "ok": o.ok, "message": o.message} for o in outcomes]}


@router.get("/panel/todo", response_model=answers.PanelTodo)
def panel_todo(session: DbSession, user: User = Depends(reviewer)) -> dict[str, object]:
    """Open verdicts for the caller's seats; `call` is null until the seat has called."""
    items = panel.todo(session, panel.seats_of(session, user))
    return {"items": [{"verdict_id": i.verdict_id, "tool_id": i.tool.id, "tool": i.tool.name,
                       "seat_id": i.seat.id, "lens": i.seat.lens, "call": i.card.call if i.card else None,
                       "quote": i.card.quote if i.card else None} for i in items]}


@router.post("/verdicts/{verdict_id}/calls", response_model=answers.VerdictState)
def submit_call(request: Request, verdict_id: RowId, body: PanelCall, session: DbSession,
                user: User = Depends(reviewer)) -> dict[str, object]:
    seat = session.get(PanelSeat, body.seat_id)
    if seat is None or (seat.user_id != user.id and user.role != Role.ADMIN):
        raise HTTPException(403, "you can only call for the seat you hold")
    verdict = panel.submit(session, verdict_id, body.seat_id, body.call, body.quote,
                           quorum=request.app.state.runtime.settings.panel_quorum, user=user)
    return {"verdict_id": verdict.id, "state": verdict.state, "ship_percent": verdict.ship_percent}


def _comparison_json(session: Session, comparison: Comparison) -> dict[str, object]:
    view = comparisons.view(session, comparison)
    return {"id": view.id, "slug": view.slug, "title": view.title, "headline": view.headline, "state": view.state,
            "category": view.category, "editor_note": view.editor_note, "position": comparison.position,
            "tools": [{"id": side.id, "name": side.name, "panel_ship_percent": side.panel_ship_percent,
                       "community_percent": side.community_percent} for side in (view.a, view.b)]}


@router.get("/comparisons/suggestions", response_model=answers.Suggestions)
def suggestions(session: DbSession, user: User = Depends(editor)) -> dict[str, object]:
    return {"items": [{"category": s.category, "tool_a_id": s.a.id, "tool_a": s.a.name, "tool_b_id": s.b.id,
                       "tool_b": s.b.name} for s in comparisons.suggestions(session)]}


@router.post("/comparisons", status_code=201, response_model=answers.ComparisonAnswer)
def create_comparison(body: NewComparison, session: DbSession, user: User = Depends(editor)) -> dict[str, object]:
    return _comparison_json(session, comparisons.create(session, body.tool_a_id, body.tool_b_id, body.headline,
                                                        body.editor_note, user=user))


@router.patch("/comparisons/{comparison_id}", response_model=answers.ComparisonAnswer)
def edit_comparison(comparison_id: RowId, body: ComparisonEdit, session: DbSession,
                    user: User = Depends(editor)) -> dict[str, object]:
    return _comparison_json(session, comparisons.update(
        session, comparison_id, headline=body.headline, editor_note=body.editor_note, position=body.position,
        swap_sides=body.swap_sides, user=user))


@router.post("/comparisons/{comparison_id}/publish", response_model=answers.ComparisonAnswer)
def publish_comparison(comparison_id: RowId, session: DbSession, user: User = Depends(editor)) -> dict[str, object]:
    return _comparison_json(session, comparisons.publish(session, comparison_id, user=user))
