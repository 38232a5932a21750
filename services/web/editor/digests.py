"""Editor pages for the weekly digest: list and compile, preview, edit, reorder, approve, send a test."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.core.db.models import Digest, User
from services.core.domain import DigestState, Role, iso_week, parse_iso_week
from services.delivery.progress import progress
from services.digest import compose, editing, previews
from services.mail.mailers import mailer_for
from services.web.auth import require
from services.web.csrf import csrf_protected
from services.web.rendering import message, page

router = APIRouter(prefix="/editor/digests")
editor = require(Role.EDITOR)
protected = [Depends(csrf_protected)]
LIST_LIMIT = 52


def _week(week: str) -> str:
    try:
        parse_iso_week(week)
    except ValueError as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    return week


def _digest(session: Session, week: str) -> Digest:
    digest = compose.by_week(session, _week(week))
    if digest is None:
        raise HTTPException(status_code=404, detail=f"No digest for {week} yet.")
    return digest


def _back(request: Request, week: str, note: str) -> RedirectResponse:
    request.session["flash"] = note
    return RedirectResponse(f"/editor/digests/{week}", status_code=303)


def _change(request: Request, week: str, act: Callable[[Session, Digest], object], done: str) -> Response:
    """Run one change in its own transaction; a refused change gets a page that says why."""
    try:
        with request.app.state.runtime.sessions() as session, session.begin():
            act(session, _digest(session, week))
    except editing.DigestEditError as exc:
        return message(request, "That did not work", str(exc), 400)
    return _back(request, week, done)


@router.get("", response_class=HTMLResponse)
def digest_list(request: Request, user: User = Depends(editor)) -> HTMLResponse:
    with request.app.state.runtime.sessions() as session:
        digests = list(session.scalars(select(Digest).order_by(Digest.week.desc()).limit(LIST_LIMIT)))
    this_week = iso_week(dt.datetime.now(dt.timezone.utc).date())
    return page(request, "digests.html", digests=digests, this_week=this_week,
                settings=request.app.state.runtime.settings, flash=request.session.pop("flash", None))


@router.post("/compile", response_model=None, dependencies=protected)
def digest_compile(request: Request, week: str = Form(...), force: bool = Form(False),
                   user: User = Depends(editor)) -> Response:
    rt = request.app.state.runtime
    week = week.strip()
    try:
        parse_iso_week(week)
    except ValueError as exc:
        return message(request, "That did not work", str(exc), 400)
    with rt.sessions() as session, session.begin():
        digest = compose.compile_week(session, rt.settings, week, force=force)
    if digest is None:
        return message(request, "Nothing to send", f"{week} has no new comparison and no new tool. "
                       "Tick “compile even if empty” to make a digest anyway.", 200)
    return _back(request, digest.week, f"Digest {digest.week} compiled.")


@router.get("/{week}", response_class=HTMLResponse)
def digest_preview(request: Request, week: str, user: User = Depends(editor)) -> HTMLResponse:
    settings = request.app.state.runtime.settings
    with request.app.state.runtime.sessions() as session:
        digest = _digest(session, week)
        sent = progress(session, digest.id)
    return page(request, "digest_preview.html", digest=digest, progress=sent,
                draft=digest.state == DigestState.DRAFT.value, text=previews.preview_text(settings, digest),
                flash=request.session.pop("flash", None))


@router.get("/{week}/html", response_class=HTMLResponse)
def digest_html(request: Request, week: str, user: User = Depends(editor)) -> HTMLResponse:
    """The mail's HTML for the preview frames, personal links replaced by public ones."""
    with request.app.state.runtime.sessions() as session:
        digest = _digest(session, week)
    return HTMLResponse(previews.preview_html(request.app.state.runtime.settings, digest))


@router.post("/{week}/edit", response_model=None, dependencies=protected)
def digest_edit(request: Request, week: str, subject: str = Form(""), preheader: str = Form(""),
                intro: str = Form(""), user: User = Depends(editor)) -> Response:
    settings = request.app.state.runtime.settings
    edits = editing.TextEdits(subject=subject, preheader=preheader, intro=intro)
    return _change(request, week, lambda s, d: editing.edit_text(s, settings, d.id, edits),
                   "Subject, preheader and intro saved.")


@router.post("/{week}/move", response_model=None, dependencies=protected)
def digest_move(request: Request, week: str, section: str = Form(...), step: int = Form(...),
                user: User = Depends(editor)) -> Response:
    settings = request.app.state.runtime.settings
    direction = 1 if step > 0 else -1
    return _change(request, week, lambda s, d: editing.move_section(s, settings, d.id, section, direction),
                   "Section moved.")


@router.post("/{week}/approve", response_model=None, dependencies=protected)
def digest_approve(request: Request, week: str, user: User = Depends(editor)) -> Response:
    return _change(request, week, lambda s, d: compose.approve(s, d.id), "Approved: the digest goes out now.")


@router.post("/{week}/test", response_model=None, dependencies=protected)
def digest_send_test(request: Request, week: str, address: str = Form(""), user: User = Depends(editor)) -> Response:
    settings = request.app.state.runtime.settings
    with request.app.state.runtime.sessions() as session:
        digest = _digest(session, week)
    try:
        previews.send_test(settings, mailer_for(settings), digest, address)
    except previews.BadTestAddress as exc:
        return message(request, "That did not work", str(exc), 400)
    except Exception as exc:  # the mailer refused or could not be reached: say so, keep the page usable
        return message(request, "The test mail was not sent", f"{type(exc).__name__}: {exc}", 502)
    return _back(request, week, f"Test sent to {address.strip()}.")
