"""The editor's send page: send the week's digest, watch it go, pause, resume or cancel, resend ambiguous batches."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from services.core.db.models import User
from services.core.domain import Role
from services.delivery import controls
from services.delivery.progress import ambiguous_batches, summary
from services.delivery.send import deliverable, recipient_count, start_send
from services.delivery.variants import variant_figures
from services.digest import compose
from services.web.auth import require
from services.web.csrf import csrf_protected
from services.web.db import DbSession
from services.web.ids import RowId
from services.web.rendering import page

router = APIRouter(prefix="/editor/sends")
editor = require(Role.EDITOR)
Editor = Annotated[User, Depends(editor)]
#: Ops watch sends too: they may open the page and resend an ambiguous batch, not start or stop a send.
watcher = require(Role.EDITOR, Role.OPS)
Watcher = Annotated[User, Depends(watcher)]
protected = [Depends(csrf_protected)]


@router.get("/{week}", response_class=HTMLResponse)
def send_page(request: Request, week: str, session: DbSession, user: Watcher) -> HTMLResponse:
    digest = compose.of_week(session, week)
    progress = summary(session, digest.id)
    recipients = recipient_count(session) if progress.control is None else None
    return page(request, "sends.html", digest=digest, progress=progress, ambiguous=ambiguous_batches(session, digest.id),
                recipients=recipients, variants=variant_figures(session, digest, deliverable()))


def _act(session: Session, week: str, action: str) -> RedirectResponse:
    {"pause": controls.pause, "resume": controls.resume,
     "cancel": controls.cancel}[action](session, compose.of_week(session, week).id)
    return RedirectResponse(f"/editor/sends/{week}", status_code=303)


@router.post("/{week}/send", dependencies=protected, response_model=None)
def send(request: Request, week: str, session: DbSession, user: Editor) -> RedirectResponse:
    """The editor's "send": approve the draft, then cut the batches, one variant per topic pick (both idempotent)."""
    digest_id = compose.of_week(session, week).id
    compose.approve(session, digest_id)
    start_send(session, digest_id, settings=request.app.state.runtime.settings)
    return RedirectResponse(f"/editor/sends/{week}", status_code=303)


@router.post("/{week}/pause", dependencies=protected, response_model=None)
def pause(week: str, session: DbSession, user: Editor) -> RedirectResponse:
    return _act(session, week, "pause")


@router.post("/{week}/resume", dependencies=protected, response_model=None)
def resume(week: str, session: DbSession, user: Editor) -> RedirectResponse:
    return _act(session, week, "resume")


@router.post("/{week}/cancel", dependencies=protected, response_model=None)
def cancel(week: str, session: DbSession, user: Editor) -> RedirectResponse:
    return _act(session, week, "cancel")


@router.post("/{week}/batches/{batch_id}/resend", dependencies=protected, response_model=None)
def resend(week: str, batch_id: RowId, session: DbSession, user: Watcher) -> RedirectResponse:
    controls.resend(session, batch_id)
    return RedirectResponse(f"/editor/sends/{week}", status_code=303)
