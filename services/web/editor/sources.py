"""Editor pages for the sources we poll: list with state and errors, add, pause, resume, poll now,
tie a changelog to its tool, and import or export them as OPML."""

from __future__ import annotations

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from services.core import limits
from services.core.db.models import User
from services.core.domain import Role, SourceKind, SourceState
from services.ingest import opml, sources, ties
from services.ingest.errors import SourceError
from services.ingest.refresh import policy_from
from services.web.auth import require
from services.web.csrf import csrf_protected
from services.web.db import DbSession
from services.web.ids import RowId
from services.web.rendering import noted_redirect, page

router = APIRouter(prefix="/editor/sources")
editor = require(Role.EDITOR)
protected = [Depends(csrf_protected)]


def _back(request: Request, note: str) -> RedirectResponse:
    return noted_redirect(request, "/editor/sources", note)


def _sources_page(request: Request, session: Session, status_code: int = 200, error: str | None = None,
                  form: dict[str, str] | None = None, import_error: str | None = None) -> HTMLResponse:
    """The sources page; ``error`` and ``form`` (what was typed) when an add was refused,
    ``import_error`` when an OPML import added nothing."""
    rows = sources.source_rows(session)
    counts = {state: sum(row["state"] == state for row in rows) for state in SourceState}
    failing = sum(bool(row["last_error"]) for row in rows)
    return page(request, "editor_sources.html", status_code, rows=rows, counts=counts, failing=failing,
                kinds=list(SourceKind), flash=request.session.pop("flash", None), error=error,
                form=form or {"url": "", "kind": SourceKind.FEED, "title": ""}, import_error=import_error)


@router.get("", response_class=HTMLResponse)
def source_list(request: Request, session: DbSession, user: User = Depends(editor)) -> HTMLResponse:
    return _sources_page(request, session)


@router.post("", dependencies=protected, response_model=None)
def source_add(request: Request, session: DbSession, url: str = Form(..., max_length=limits.URL),
               kind: str = Form(SourceKind.FEED, max_length=limits.CHOICE),
               title: str = Form("", max_length=limits.SOURCE_TITLE), user: User = Depends(editor)) -> Response:
    """Add a source once it was fetched and parsed; a refusal answers 422 with the form as typed and why."""
    typed = {"url": url, "kind": kind, "title": title}
    try:
        chosen = SourceKind(kind)
    except ValueError:
        return _sources_page(request, session, 422, f"Not added: unknown kind {kind!r}.", typed)
    settings = request.app.state.runtime.settings
    try:
        feed_url, feed_kind = sources.readable_source(url.strip(), chosen, policy_from(settings), settings.hub_endpoint)
        source = sources.add_source(session, feed_url, feed_kind, title.strip() or None, settings.hub_endpoint)
    except SourceError as exc:
        return _sources_page(request, session, 422, f"Not added: {exc}", typed)
    note = f"Added source {source.id}: {source.url}"
    if feed_url != url.strip():
        note += f" (the feed announced by {url.strip()})"
    return _back(request, note + ".")


@router.post("/opml", dependencies=protected, response_model=None)
def source_import(request: Request, session: DbSession, file: UploadFile = File(...),
                  user: User = Depends(editor)) -> Response:
    """Watch every feed of an uploaded OPML file, without fetching them (see ingest.opml.import_opml).
    Answers 422 with why when the file is no OPML we read (over opml.MAX_OPML_BYTES included) or
    nothing was added and something was refused; otherwise back to the list with what was done."""
    data = file.file.read(opml.MAX_OPML_BYTES + 1)
    try:
        report = opml.import_opml(session, data, request.app.state.runtime.settings.hub_endpoint)
    except SourceError as exc:
        return _sources_page(request, session, 422, import_error=f"Not imported: {exc}")
    refused = "; ".join(f"{url}: {reason}" for url, reason in report.failed)
    if not report.added and report.failed:
        return _sources_page(request, session, 422, import_error=f"Nothing imported. Refused: {refused}")
    note = f"Imported {len(report.added)} source(s) from {file.filename or 'the file'}"
    if report.already:
        note += f"; {len(report.already)} watched already ({', '.join(report.already)})"
    if report.failed:
        note += f"; refused {refused}"
    return _back(request, note + ".")


@router.get("/opml", response_model=None)
def source_export(session: DbSession, user: User = Depends(editor)) -> Response:
    """Every source as an OPML 2.0 download (see ingest.opml.export_opml)."""
    return Response(opml.export_opml(session), media_type="text/x-opml; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="verdicts-sources.opml"'})


def _set(request: Request, session: Session, source_id: int, state: SourceState, done: str) -> Response:
    try:
        sources.set_state(session, source_id, state, reason="by an editor" if state is SourceState.PAUSED else None)
    except SourceError as exc:
        return _back(request, str(exc))
    return _back(request, done)


@router.post("/{source_id}/pause", dependencies=protected, response_model=None)
def source_pause(request: Request, source_id: RowId, session: DbSession, user: User = Depends(editor)) -> Response:
    return _set(request, session, source_id, SourceState.PAUSED, f"Source {source_id} is paused.")


@router.post("/{source_id}/resume", dependencies=protected, response_model=None)
def source_resume(request: Request, source_id: RowId, session: DbSession, user: User = Depends(editor)) -> Response:
    return _set(request, session, source_id, SourceState.ACTIVE, f"Source {source_id} is active and due now.")


@router.post("/{source_id}/tie", dependencies=protected, response_model=None)
def source_tie(request: Request, source_id: RowId, session: DbSession,
               tool_key: str = Form("", max_length=limits.TOOL_KEY),
               user: User = Depends(editor)) -> Response:
    """Tie a changelog source to the tool known by ``tool_key`` (its items become updates of that
    tool), or clear the tie when the key is empty; audit-logged either way."""
    try:
        if tool_key.strip():
            tied = ties.tie_source(session, source_id, tool_key, user.id).tool_key
            return _back(request, f"Source {source_id} is tied to {tied}.")
        ties.untie_source(session, source_id, user.id)
    except SourceError as exc:
        return _back(request, f"Not tied: {exc}.")
    return _back(request, f"Source {source_id} is no longer tied to a tool.")


@router.post("/{source_id}/poll", dependencies=protected, response_model=None)
def source_poll(request: Request, source_id: RowId, session: DbSession, user: User = Depends(editor)) -> Response:
    from services.ingest.actors import poll_source

    try:
        state = sources.poll_soon(session, source_id).state
    except SourceError as exc:
        return _back(request, str(exc))
    if state != SourceState.ACTIVE:
        return _back(request, f"Source {source_id} is {state}; resume it first.")
    session.commit()  # the worker must find the source due: store that before handing it the message
    poll_source.send(source_id)
    return _back(request, f"Source {source_id} will be polled in a moment; reload to see the result.")
