"""The review queue page and its actions: approve with edits, reject, merge, snooze, bulk."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from services.core.db.models import Tool, User
from services.core.domain import Role, ToolState
from services.review import queue
from services.review.queue import QueueFilter, ReviewConflict, ReviewError, ToolEdits
from services.web.auth import require
from services.web.csrf import csrf_protected
from services.web.rendering import message, page

router = APIRouter()
editor = require(Role.EDITOR)
QUEUE = "/editor/queue"


def _back(request: Request, note: str) -> RedirectResponse:
    request.session["flash"] = note
    referer = request.headers.get("referer", "")
    target = QUEUE
    if referer.startswith(str(request.base_url).rstrip("/") + QUEUE):
        target = referer.removeprefix(str(request.base_url).rstrip("/"))
    return RedirectResponse(target, status_code=303)


def _decide(request: Request, act: Callable[[Session], Tool], done: str, sent: str = "") -> Response:
    """Run one decision in its own transaction; a conflict or a bad request gets a page that says so.

    ``sent`` repeats what the editor submitted, so a conflict loses none of their typing.
    """
    try:
        with request.app.state.runtime.sessions() as session, session.begin():
            tool = act(session)
            name = tool.name
    except ReviewConflict as exc:
        return message(request, "Someone else got there first", str(exc) + (f". What you sent: {sent}" if sent else ""),
                       409)
    except ReviewError as exc:
        return message(request, "That did not work", str(exc), 400)
    return _back(request, f"{name}: {done}.")


@router.get("/queue", response_class=HTMLResponse)
def review_queue(request: Request, state: str = "candidate", source: str = "", category: str = "",
                 min_score: str = "", q: str = "", page_number: int = Query(1, alias="page", ge=1),
                 user: User = Depends(editor)) -> HTMLResponse:
    try:
        score = float(min_score) if min_score.strip() else None
    except ValueError:
        score = None
    flt = QueueFilter(state=state if state in queue.QUEUE_STATES else "candidate", source=source or None,
                      category=category or None, min_score=score, search=q or None)
    with request.app.state.runtime.sessions() as session:
        found = queue.search(session, flt, offset=(page_number - 1) * queue.PAGE_SIZE)
        choices = queue.filter_choices(session)
        rows = [(tool, list(tool.evidence)) for tool in found.tools]
    params = {k: v for k, v in {"state": flt.state, "source": source, "category": category,
                                "min_score": min_score, "q": q}.items() if v}
    pages = max(1, -(-found.total // queue.PAGE_SIZE))
    return page(request, "queue.html", rows=rows, filter=flt, choices=choices, total=found.total,
                page_number=page_number, pages=pages, query=urlencode(params), states=queue.QUEUE_STATES,
                flash=request.session.pop("flash", None), min_score=min_score, q=q)


@router.post("/queue/{tool_id}/approve", dependencies=[Depends(csrf_protected)], response_model=None)
def approve(request: Request, tool_id: int, revision: int | None = Form(None), name: str = Form(""),
            vendor: str = Form(""), homepage: str = Form(""), category: str = Form(""), tagline: str = Form(""),
            entry_price: str = Form(""), description: str = Form(""), user: User = Depends(editor)) -> Response:
    edits = ToolEdits(name=name, vendor=vendor, homepage=homepage, category=category, tagline=tagline,
                      entry_price=entry_price, description=description)
    sent = "; ".join(f"{k}: {v.strip()}" for k, v in asdict(edits).items() if v and v.strip())
    return _decide(request, lambda s: queue.approve(s, tool_id, user, edits, revision), "approved, the panel is on it",
                   sent)


@router.post("/queue/{tool_id}/reject", dependencies=[Depends(csrf_protected)], response_model=None)
def reject(request: Request, tool_id: int, reason: str = Form(""), revision: int | None = Form(None),
           user: User = Depends(editor)) -> Response:
    return _decide(request, lambda s: queue.reject(s, tool_id, user, reason, revision), "rejected",
                   f"reject because {reason.strip()}")


def _merge_target(session: Session, into: str) -> int:
    into = into.strip()
    if into.isdigit():
        return int(into)
    target = session.scalar(
        select(Tool.id).where(or_(func.lower(Tool.name) == into.lower(), Tool.slug == into.lower()),
                              Tool.state == ToolState.APPROVED.value).limit(1))
    if target is None:
        raise ReviewError(f"no approved tool named {into!r}; give its name or id")
    return target


@router.post("/queue/{tool_id}/merge", dependencies=[Depends(csrf_protected)], response_model=None)
def merge(request: Request, tool_id: int, into: str = Form(""), revision: int | None = Form(None),
          user: User = Depends(editor)) -> Response:
    return _decide(request, lambda s: queue.merge(s, tool_id, _merge_target(s, into), user, revision),
                   "merged into the existing tool")


@router.post("/queue/{tool_id}/snooze", dependencies=[Depends(csrf_protected)], response_model=None)
def snooze(request: Request, tool_id: int, days: int = Form(7), revision: int | None = Form(None),
           user: User = Depends(editor)) -> Response:
    return _decide(request, lambda s: queue.snooze(s, tool_id, user, days, revision), f"snoozed for {days} days")


@router.post("/queue/bulk", dependencies=[Depends(csrf_protected)], response_model=None)
def bulk(request: Request, action: str = Form(""), ids: list[int] = Form([]),
         reason: str = Form(""), user: User = Depends(editor)) -> Response:
    if not ids:
        return _back(request, "Select at least one candidate first.")
    try:
        with request.app.state.runtime.sessions() as session, session.begin():
            outcomes = queue.bulk(session, action, ids, user, reason)
    except ReviewError as exc:
        return message(request, "That did not work", str(exc), 400)
    done = sum(outcome.ok for outcome in outcomes)
    failed = [outcome.message for outcome in outcomes if not outcome.ok]
    return _back(request, f"{action}: {done} done" + (f"; {len(failed)} skipped: " + " | ".join(failed) if failed else "."))
