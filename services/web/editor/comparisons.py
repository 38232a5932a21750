"""Editors build comparisons: suggestions, drafts, edits, preview, publish."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.core import limits, links
from services.core.db.models import Comparison, User
from services.core.domain import Role
from services.review import comparisons
from services.web.auth import require
from services.web.csrf import csrf_protected
from services.web.db import DbSession
from services.web.forms import checked_text_field
from services.web.ids import FormRowId, RowId
from services.web.rendering import message, page

router = APIRouter()
editor = require(Role.EDITOR)


@router.get("/comparisons", response_class=HTMLResponse)
def comparisons_page(request: Request, session: DbSession, user: User = Depends(editor)) -> HTMLResponse:
    return page(request, "comparisons.html", suggestions=comparisons.suggestions(session),
                comparisons=comparisons.drafts_and_published(session), flash=request.session.pop("flash", None))


@router.post("/comparisons", dependencies=[Depends(csrf_protected)], response_model=None)
def create(session: DbSession, tool_a_id: FormRowId, tool_b_id: FormRowId,
           user: User = Depends(editor)) -> Response:
    comparison_id = comparisons.create(session, tool_a_id, tool_b_id, user=user).id
    return RedirectResponse(f"/editor/comparisons/{comparison_id}", status_code=303)


@router.get("/comparisons/{comparison_id}", response_class=HTMLResponse)
def edit_page(request: Request, comparison_id: RowId, session: DbSession, user: User = Depends(editor)) -> HTMLResponse:
    found = session.get(Comparison, comparison_id)
    if found is None:
        return message(request, "Not found", "No such comparison.", 404)
    return page(request, "comparison_edit.html", c=comparisons.view(session, found), position=found.position,
                flash=request.session.pop("flash", None))


@router.get("/comparisons/{comparison_id}/preview", response_class=HTMLResponse)
def preview(request: Request, comparison_id: RowId, session: DbSession, user: User = Depends(editor)) -> HTMLResponse:
    found = session.get(Comparison, comparison_id)
    if found is None:
        return message(request, "Not found", "No such comparison.", 404)
    return page(request, "comparison.html", c=comparisons.view(session, found),
                canonical=links.comparison(request.app.state.runtime.settings, found.slug), preview=True)


@router.post("/comparisons/{comparison_id}", dependencies=[Depends(csrf_protected)], response_model=None)
def edit(request: Request, comparison_id: RowId, session: DbSession,
         headline: str = checked_text_field(limits.HEADLINE),
         editor_note: str = checked_text_field(limits.EDITOR_NOTE),
         position: int = Form(0, ge=-limits.ROW_ID_MAX, le=limits.ROW_ID_MAX), swap: bool = Form(False),
         user: User = Depends(editor)) -> Response:
    comparisons.update(session, comparison_id, headline=headline, editor_note=editor_note, position=position,
                       swap_sides=swap, user=user)
    request.session["flash"] = "Saved."
    return RedirectResponse(f"/editor/comparisons/{comparison_id}", status_code=303)


@router.post("/comparisons/{comparison_id}/publish", dependencies=[Depends(csrf_protected)], response_model=None)
def publish(request: Request, comparison_id: RowId, session: DbSession, user: User = Depends(editor)) -> Response:
    slug = comparisons.publish(session, comparison_id, user=user).slug
    request.session["flash"] = f"Published at {links.COMPARISON_PATH}{slug}; the next digest picks it up."
    return RedirectResponse(f"/editor/comparisons/{comparison_id}", status_code=303)
