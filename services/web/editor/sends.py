"""The editor's send page: send the week's digest, watch it go, pause, resume or cancel, resend ambiguous batches."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from services.core.db.models import User
from services.core.domain import Role
from services.delivery import controls
from services.delivery.progress import ambiguous_batches, summary
from services.delivery.send import recipient_count, start_send
from services.digest import compose
from services.web.auth import require
from services.web.csrf import csrf_protected
from services.web.rendering import page

router = APIRouter(prefix="/editor/sends")
editor = require(Role.EDITOR)
Editor = Annotated[User, Depends(editor)]
#: Ops watch sends too: they may open the page and resend an ambiguous batch, not start or stop a send.
watcher = require(Role.EDITOR, Role.OPS)
Watcher = Annotated[User, Depends(watcher)]
protected = [Depends(csrf_protected)]


def _digest_id(request: Request, week: str) -> int:
    with request.app.state.runtime.sessions() as session:
        digest = compose.by_week(session, week)
        if digest is None:
            raise HTTPException(status_code=404, detail=f"No digest for {week} yet.")
        return digest.id


@router.get("/{week}", response_class=HTMLResponse)
def send_page(request: Request, week: str, user: Watcher) -> HTMLResponse:
    digest_id = _digest_id(request, week)
    with request.app.state.runtime.sessions() as session:
        digest = compose.by_week(session, week)
        progress = summary(session, digest_id)
        ambiguous = ambiguous_batches(session, digest_id)
        recipients = recipient_count(session) if progress.control is None else None
    return page(request, "sends.html", digest=digest, progress=progress, ambiguous=ambiguous, recipients=recipients)


def _begin(session: Session, digest_id: int) -> None:
    """The editor's "send": approve the draft, then cut the batches (both idempotent)."""
    compose.approve(session, digest_id)
    start_send(session, digest_id)


def _act(request: Request, week: str, action: str) -> RedirectResponse:
    digest_id = _digest_id(request, week)
    with request.app.state.runtime.sessions() as session, session.begin():
        try:
            {"send": _begin, "pause": controls.pause, "resume": controls.resume,
             "cancel": controls.cancel}[action](session, digest_id)
        except ValueError as exc:
            raise HTTPException(status_code=409, detail=str(exc)) from exc
    return RedirectResponse(f"/editor/sends/{week}", status_code=303)


@router.post("/{week}/send", dependencies=protected, response_model=None)
def send(request: Request, week: str, user: Editor) -> RedirectResponse:
    return _act(request, week, "send")


@router.post("/{week}/pause", dependencies=protected, response_model=None)
def pause(request: Request, week: str, user: Editor) -> RedirectResponse:
    return _act(request, week, "pause")


@router.post("/{week}/resume", dependencies=protected, response_model=None)
def resume(request: Request, week: str, user: Editor) -> RedirectResponse:
    return _act(request, week, "resume")


@router.post("/{week}/cancel", dependencies=protected, response_model=None)
def cancel(request: Request, week: str, user: Editor) -> RedirectResponse:
    return _act(request, week, "cancel")


@router.post("/{week}/batches/{batch_id}/resend", dependencies=protected, response_model=None)
def resend(request: Request, week: str, batch_id: int, user: Watcher) -> RedirectResponse:
    with request.app.state.runtime.sessions() as session, session.begin():
        try:
            controls.resend(session, batch_id)
        except ValueError as exc:
            raise HTTPException(status_code=409, detail=str(exc)) from exc
    return RedirectResponse(f"/editor/sends/{week}", status_code=303)
