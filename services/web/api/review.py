"""JSON API for editors and reviewers: the queue, panel calls, comparisons."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from services.core.db.models import Comparison, PanelSeat, Tool, User
from services.core.domain import Call, Role
from services.review import comparisons, panel, queue
from services.review.comparisons import ComparisonError
from services.review.panel import PanelError
from services.review.queue import QueueFilter, ReviewConflict, ReviewError, ToolEdits
from services.web.auth import require_api

router = APIRouter(prefix="/api", tags=["review"])
editor = require_api(Role.EDITOR)
reviewer = require_api(Role.REVIEWER)


class Approval(BaseModel):
    revision: int | None = Field(None, description="the revision you saw; a different one is a conflict")
    name: str | None = None
    vendor: str | None = None
    homepage: str | None = None
    category: str | None = None
    tagline: str | None = None
    entry_price: str | None = None
    description: str | None = None


class Rejection(BaseModel):
    reason: str
    revision: int | None = None


class Merge(BaseModel):
    into_id: int
    revision: int | None = None


class Snooze(BaseModel):
    days: int = Field(7, ge=1, le=365)
    revision: int | None = None


class Bulk(BaseModel):
    action: Literal["approve", "reject", "snooze"]
    ids: list[int] = Field(min_length=1, max_length=500)
    reason: str = ""


class PanelCall(BaseModel):
    seat_id: int
    call: Call
    quote: str = Field(min_length=1, max_length=1000)


class NewComparison(BaseModel):
    tool_a_id: int
    tool_b_id: int
    headline: str | None = None
    editor_note: str | None = None


class ComparisonEdit(BaseModel):
    headline: str
    editor_note: str | None = None
    position: int = 0
    swap_sides: bool = False


def _decide(request: Request, act: Callable[[Session], Tool]) -> dict[str, object]:
    try:
        with request.app.state.runtime.sessions() as session, session.begin():
            tool = act(session)
            return queue.tool_row(tool)
    except ReviewConflict as exc:
        raise HTTPException(409, str(exc)) from exc
    except ReviewError as exc:
        raise HTTPException(400, str(exc)) from exc


@router.get("/queue")
def list_queue(request: Request, state: str = "candidate", source: str | None = None, category: str | None = None,
               min_score: float | None = None, q: str | None = None, offset: int = 0, limit: int = 50,
               user: User = Depends(editor)) -> dict[str, object]:
    """Candidates newest first, filtered like the queue page."""
    try:
        with request.app.state.runtime.sessions() as session:
            found = queue.search(session, QueueFilter(state, source, category, min_score, q), offset,
                                 max(1, min(limit, 500)))
            return {"total": found.total, "offset": offset, "items": [queue.tool_row(t) for t in found.tools]}
    except ReviewError as exc:
        raise HTTPException(400, str(exc)) from exc


@router.post("/queue/{tool_id}/approve")
def approve(request: Request, tool_id: int, body: Approval, user: User = Depends(editor)) -> dict[str, object]:
    edits = ToolEdits(**body.model_dump(exclude={"revision"}))
    return _decide(request, lambda s: queue.approve(s, tool_id, user, edits, body.revision))


@router.post("/queue/{tool_id}/reject")
def reject(request: Request, tool_id: int, body: Rejection, user: User = Depends(editor)) -> dict[str, object]:
    return _decide(request, lambda s: queue.reject(s, tool_id, user, body.reason, body.revision))


@router.post("/queue/{tool_id}/merge")
def merge(request: Request, tool_id: int, body: Merge, user: User = Depends(editor)) -> dict[str, object]:
    return _decide(request, lambda s: queue.merge(s, tool_id, body.into_id, user, body.revision))


@router.post("/queue/{tool_id}/snooze")
def snooze(request: Request, tool_id: int, body: Snooze, user: User = Depends(editor)) -> dict[str, object]:
    return _decide(request, lambda s: queue.snooze(s, tool_id, user, body.days, body.revision))


@router.post("/queue/bulk")
def bulk(request: Request, body: Bulk, user: User = Depends(editor)) -> dict[str, object]:
    try:
        with request.app.state.runtime.sessions() as session, session.begin():
            outcomes = queue.bulk(session, body.action, body.ids, user, body.reason)
    except ReviewError as exc:
        raise HTTPException(400, str(exc)) from exc
    return {"results": [{"id": o.tool_id, "ok": o.ok, "message": o.message} for o in outcomes]}


@router.get("/panel/todo")
def panel_todo(request: Request, user: User = Depends(reviewer)) -> dict[str, object]:
    """Open verdicts for the caller's seats; `call` is null until the seat has called."""
    with request.app.state.runtime.sessions() as session:
        items = panel.todo(session, panel.seats_of(session, user))
        return {"items": [{"verdict_id": i.verdict_id, "tool_id": i.tool.id, "tool": i.tool.name,
                           "seat_id": i.seat.id, "lens": i.seat.lens, "call": i.card.call if i.card else None,
                           "quote": i.card.quote if i.card else None} for i in items]}


@router.post("/verdicts/{verdict_id}/calls")
def submit_call(request: Request, verdict_id: int, body: PanelCall, user: User = Depends(reviewer)) -> dict[str, object]:
    try:
        with request.app.state.runtime.sessions() as session, session.begin():
            seat = session.get(PanelSeat, body.seat_id)
            if seat is None or (seat.user_id != user.id and user.role != Role.ADMIN.value):
                raise HTTPException(403, "you can only call for the seat you hold")
            verdict = panel.submit(session, verdict_id, body.seat_id, body.call, body.quote,
                                   quorum=request.app.state.runtime.settings.panel_quorum, user=user)
            return {"verdict_id": verdict.id, "state": verdict.state, "ship_percent": verdict.ship_percent}
    except PanelError as exc:
        raise HTTPException(409 if "complete" in str(exc) else 400, str(exc)) from exc


def _comparison_json(session: Session, comparison: Comparison) -> dict[str, object]:
    view = comparisons.view(session, comparison)
    return {"id": view.id, "slug": view.slug, "title": view.title, "headline": view.headline, "state": view.state,
            "category": view.category, "editor_note": view.editor_note, "position": comparison.position,
            "tools": [{"id": side.id, "name": side.name, "panel_ship_percent": side.panel_ship_percent,
                       "community_percent": side.community_percent} for side in (view.a, view.b)]}


@router.get("/comparisons/suggestions")
def suggestions(request: Request, user: User = Depends(editor)) -> dict[str, object]:
    with request.app.state.runtime.sessions() as session:
        return {"items": [{"category": s.category, "tool_a_id": s.a.id, "tool_a": s.a.name, "tool_b_id": s.b.id,
                           "tool_b": s.b.name} for s in comparisons.suggestions(session)]}


def _comparison_op(request: Request, act: Callable[[Session], Comparison]) -> dict[str, object]:
    try:
        with request.app.state.runtime.sessions() as session, session.begin():
            return _comparison_json(session, act(session))
    except ComparisonError as exc:
        raise HTTPException(404 if str(exc).startswith("no comparison") else 400, str(exc)) from exc


@router.post("/comparisons", status_code=201)
def create_comparison(request: Request, body: NewComparison, user: User = Depends(editor)) -> dict[str, object]:
    return _comparison_op(request, lambda s: comparisons.create(s, body.tool_a_id, body.tool_b_id, body.headline,
                                                                body.editor_note, user=user))


@router.patch("/comparisons/{comparison_id}")
def edit_comparison(request: Request, comparison_id: int, body: ComparisonEdit,
                    user: User = Depends(editor)) -> dict[str, object]:
    return _comparison_op(request, lambda s: comparisons.update(
        s, comparison_id, headline=body.headline, editor_note=body.editor_note, position=body.position,
        swap_sides=body.swap_sides, user=user))


@router.post("/comparisons/{comparison_id}/publish")
def publish_comparison(request: Request, comparison_id: int, user: User = Depends(editor)) -> dict[str, object]:
    return _comparison_op(request, lambda s: comparisons.publish(s, comparison_id, user=user))
