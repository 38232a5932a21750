"""Editor pages for the weekly digest: list and compile, preview, edit, reorder, approve, send a test."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from services.core import limits
from services.core.db.models import Digest, User
from services.core.domain import DigestState, Role, iso_week
from services.delivery.progress import progress
from services.digest import compose, editing, previews
from services.web.auth import require
from services.web.csrf import csrf_protected
from services.web.db import DbSession
from services.web.forms import checked_text_field
from services.web.rendering import message, noted_redirect, page

router = APIRouter(prefix="/editor/digests")
editor = require(Role.EDITOR)
protected = [Depends(csrf_protected)]
LIST_LIMIT = 52


def _back(request: Request, week: str, note: str) -> RedirectResponse:
    return noted_redirect(request, f"/editor/digests/{week}", note)


@router.get("", response_class=HTMLResponse)
def digest_list(request: Request, session: DbSession, user: User = Depends(editor)) -> HTMLResponse:
    digests = list(session.scalars(select(Digest).order_by(Digest.week.desc()).limit(LIST_LIMIT)))
    this_week = iso_week(dt.datetime.now(dt.timezone.utc).date())
    return page(request, "digests.html", digests=digests, this_week=this_week,
                settings=request.app.state.runtime.settings, flash=request.session.pop("flash", None))


@router.post("/compile", response_model=None, dependencies=protected)
def digest_compile(request: Request, session: DbSession, week: str = Form(..., max_length=limits.WEEK_LABEL),
                   force: bool = Form(False),
                   user: User = Depends(editor)) -> Response:
    week = week.strip()
    digest = compose.compile_week(session, request.app.state.runtime.settings, week, force=force)
    if digest is None:
        return message(request, "Nothing to send", f"{week} has no new comparison and no new tool. "
                       "Tick “compile even if empty” to make a digest anyway.", 200)
    return _back(request, digest.week, f"Digest {digest.week} compiled.")


@router.get("/{week}", response_class=HTMLResponse)
def digest_preview(request: Request, week: str, session: DbSession, user: User = Depends(editor)) -> HTMLResponse:
    settings = request.app.state.runtime.settings
    digest = compose.of_week(session, week)
    return page(request, "digest_preview.html", digest=digest, progress=progress(session, digest.id),
                draft=digest.state == DigestState.DRAFT, text=previews.preview_text(settings, digest),
                flash=request.session.pop("flash", None))


@router.get("/{week}/html", response_class=HTMLResponse)
def digest_html(request: Request, week: str, session: DbSession, user: User = Depends(editor)) -> HTMLResponse:
    """The mail's HTML for the preview frames, personal links replaced by public ones."""
    return HTMLResponse(previews.preview_html(request.app.state.runtime.settings, compose.of_week(session, week)))


@router.post("/{week}/edit", response_model=None, dependencies=protected)
def digest_edit(request: Request, week: str, session: DbSession, subject: str = checked_text_field(limits.SUBJECT),
                preheader: str = checked_text_field(limits.PREHEADER),
                intro: str = checked_text_field(limits.DIGEST_INTRO), user: User = Depends(editor)) -> Response:
    edits = editing.TextEdits(subject=subject, preheader=preheader, intro=intro)
    editing.edit_text(session, request.app.state.runtime.settings, compose.of_week(session, week).id, edits)
    return _back(request, week, "Subject, preheader and intro saved.")


@router.post("/{week}/move", response_model=None, dependencies=protected)
def digest_move(request: Request, week: str, session: DbSession, section: str = Form(..., max_length=limits.SECTION_ID),
                step: int = Form(...),
                user: User = Depends(editor)) -> Response:
    editing.move_section(session, request.app.state.runtime.settings, compose.of_week(session, week).id, section,
                         1 if step > 0 else -1)
    return _back(request, week, "Section moved.")


@router.post("/{week}/approve", response_model=None, dependencies=protected)
def digest_approve(request: Request, week: str, session: DbSession, user: User = Depends(editor)) -> Response:
    compose.approve(session, compose.of_week(session, week).id)
    return _back(request, week, "Approved: the digest goes out now.")


@router.post("/{week}/test", response_model=None, dependencies=protected)
def digest_send_test(request: Request, week: str, session: DbSession, address: str = Form("", max_length=limits.EMAIL),
                     user: User = Depends(editor)) -> Response:
    """Records the test mail as due (a bad address is refused by the app's page); a worker sends it."""
    recipient = previews.request_test(session, compose.of_week(session, week), address,
                                      smtputf8=request.app.state.runtime.settings.mailer_smtputf8)
    return _back(request, week, f"Test mail on its way to {recipient}.")
