"""The review queue page and its actions: approve with edits, reject, merge, snooze, bulk."""

from __future__ import annotations

from dataclasses import asdict
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.core import limits
from services.core.db.models import User
from services.core.domain import Role
from services.review import queue
from services.review.queue import QueueFilter
from services.review.tool_edits import EDITABLE_FIELDS, ToolEdits
from services.web.auth import require
from services.web.csrf import csrf_protected
from services.web.db import DbSession
from services.web.errors import echo
from services.web.forms import checked_text_field
from services.web.ids import BodyRowId, RowId, typed_row_id
from services.web.rendering import noted_redirect, page

router = APIRouter()
editor = require(Role.EDITOR)
QUEUE = "/editor/queue"


def _back(request: Request, note: str) -> RedirectResponse:
    referer = request.headers.get("referer", "")
    target = QUEUE
    if referer.startswith(str(request.base_url).rstrip("/") + QUEUE):
        target = referer.removeprefix(str(request.base_url).rstrip("/"))
    return noted_redirect(request, target, note)


@router.get("/queue", response_class=HTMLResponse)
def review_queue(request: Request, session: DbSession, state: str = "candidate", source: str = "", category: str = "",
                 min_score: str = "", q: str = "", page_number: int = Query(1, alias="page", ge=1),
                 user: User = Depends(editor)) -> HTMLResponse:
    try:
        score = float(min_score) if min_score.strip() else None
    except ValueError:
        score = None
    flt = QueueFilter(state=state if state in queue.QUEUE_STATES else "candidate", source=source or None,
                      category=category or None, min_score=score, search=q or None)
    found = queue.search(session, flt, offset=(page_number - 1) * queue.PAGE_SIZE)
    choices = queue.filter_choices(session)
    rows = [(tool, list(tool.evidence)) for tool in found.tools]
    params = {k: v for k, v in {"state": flt.state, "source": source, "category": category,
                                "min_score": min_score, "q": q}.items() if v}
    pages = max(1, -(-found.total // queue.PAGE_SIZE))
    return page(request, "queue.html", rows=rows, filter=flt, choices=choices, total=found.total,
                page_number=page_number, pages=pages, query=urlencode(params), states=queue.QUEUE_STATES,
                flash=request.session.pop("flash", None), min_score=min_score, q=q, facts=EDITABLE_FIELDS)


async def _form_edits(request: Request) -> ToolEdits:
    """The approval form's corrections: one field per editable fact, named as the fact."""
    form = await request.form()
    values = {fact.name: form.get(fact.name) for fact in EDITABLE_FIELDS}
    return ToolEdits(**{name: value for name, value in values.items() if isinstance(value, str)})


@router.post("/queue/{tool_id}/approve", dependencies=[Depends(csrf_protected)], response_model=None)
def approve(request: Request, tool_id: RowId, session: DbSession, revision: int | None = Form(None),
            edits: ToolEdits = Depends(_form_edits), user: User = Depends(editor)) -> Response:
    echo(request, "; ".join(f"{k}: {v.strip()}" for k, v in asdict(edits).items() if v and v.strip()))
    tool = queue.approve(session, tool_id, user, edits, revision)
    return _back(request, f"{tool.name}: approved, the panel is on it.")


@router.post("/queue/{tool_id}/reject", dependencies=[Depends(csrf_protected)], response_model=None)
def reject(request: Request, tool_id: RowId, session: DbSession,
           reason: str = checked_text_field(limits.REJECT_REASON),
           revision: int | None = Form(None), user: User = Depends(editor)) -> Response:
    echo(request, f"reject because {reason.strip()}")
    tool = queue.reject(session, tool_id, user, reason, revision)
    return _back(request, f"{tool.name}: rejected.")


@router.post("/queue/{tool_id}/merge", dependencies=[Depends(csrf_protected)], response_model=None)
def merge(request: Request, tool_id: RowId, session: DbSession, into: str = Form("", max_length=limits.TOOL_NAME),
          revision: int | None = Form(None), user: User = Depends(editor)) -> Response:
    """Merge the candidate into the tool ``into`` names: its id, else its name or slug."""
    into_id = typed_row_id(into) or queue.merge_target(session, into)
    tool = queue.merge(session, tool_id, into_id, user, revision)
    return _back(request, f"{tool.name}: merged into the existing tool.")


@router.post("/queue/{tool_id}/snooze", dependencies=[Depends(csrf_protected)], response_model=None)
def snooze(request: Request, tool_id: RowId, session: DbSession, days: int = Form(7, ge=1, le=365),
           revision: int | None = Form(None), user: User = Depends(editor)) -> Response:
    tool = queue.snooze(session, tool_id, user, days, revision)
    return _back(request, f"{tool.name}: snoozed for {days} days.")


@router.post("/queue/bulk", dependencies=[Depends(csrf_protected)], response_model=None)
def bulk(request: Request, session: DbSession, action: str = Form("", max_length=limits.CHOICE),
         ids: list[BodyRowId] = Form([]),
         reason: str = checked_text_field(limits.REJECT_REASON), user: User = Depends(editor)) -> Response:
    if not ids:
        return _back(request, "Select at least one candidate first.")
    outcomes = queue.bulk(session, action, ids, user, reason)
    done = sum(outcome.ok for outcome in outcomes)
    failed = [outcome.message for outcome in outcomes if not outcome.ok]
    return _back(request, f"{action}: {done} done" + (f"; {len(failed)} skipped: " + " | ".join(failed) if failed else "."))
