"""Editor pages for the sources we poll: list with state and errors, add, pause, resume, poll now."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.core.db.models import User
from services.core.domain import Role, SourceKind, SourceState
from services.ingest import sources
from services.ingest.pipeline import policy_from
from services.web.auth import require
from services.web.csrf import csrf_protected
from services.web.rendering import page

router = APIRouter(prefix="/editor/sources")
editor = require(Role.EDITOR)
protected = [Depends(csrf_protected)]


def _back(request: Request, note: str) -> RedirectResponse:
    request.session["flash"] = note
    return RedirectResponse("/editor/sources", status_code=303)


@router.get("", response_class=HTMLResponse)
def source_list(request: Request, user: User = Depends(editor)) -> HTMLResponse:
    with request.app.state.runtime.sessions() as session:
        rows = sources.source_rows(session)
    counts = {state.value: sum(row["state"] == state.value for row in rows) for state in SourceState}
    failing = sum(bool(row["last_error"]) for row in rows)
    return page(request, "editor_sources.html", rows=rows, counts=counts, failing=failing,
                kinds=[kind.value for kind in SourceKind], flash=request.session.pop("flash", None))


@router.post("", dependencies=protected, response_model=None)
def source_add(request: Request, url: str = Form(...), kind: str = Form(SourceKind.FEED.value),
               title: str = Form(""), user: User = Depends(editor)) -> Response:
    try:
        chosen = SourceKind(kind)
    except ValueError:
        return _back(request, f"Unknown kind {kind!r}.")
    settings = request.app.state.runtime.settings
    try:
        feed_url, feed_kind, warning = sources.feed_behind(url.strip(), chosen, policy_from(settings))
        with request.app.state.runtime.sessions() as session, session.begin():
            source = sources.add_source(session, feed_url, feed_kind, title.strip() or None)
            note = f"Added source {source.id}: {source.url}"
    except sources.SourceError as exc:
        return _back(request, f"Not added: {exc}")
    if feed_url != url.strip():
        note += f" (the feed announced by {url.strip()})"
    return _back(request, note + (f". Warning: {warning}" if warning else "."))


def _set(request: Request, source_id: int, state: SourceState, done: str) -> Response:
    try:
        with request.app.state.runtime.sessions() as session, session.begin():
            sources.set_state(session, source_id, state, reason="by an editor" if state is SourceState.PAUSED else None)
    except sources.SourceError as exc:
        return _back(request, str(exc))
    return _back(request, done)


@router.post("/{source_id}/pause", dependencies=protected, response_model=None)
def source_pause(request: Request, source_id: int, user: User = Depends(editor)) -> Response:
    return _set(request, source_id, SourceState.PAUSED, f"Source {source_id} is paused.")


@router.post("/{source_id}/resume", dependencies=protected, response_model=None)
def source_resume(request: Request, source_id: int, user: User = Depends(editor)) -> Response:
    return _set(request, source_id, SourceState.ACTIVE, f"Source {source_id} is active and due now.")


@router.post("/{source_id}/poll", dependencies=protected, response_model=None)
def source_poll(request: Request, source_id: int, user: User = Depends(editor)) -> Response:
    from services.ingest.actors import poll_source

    try:
        with request.app.state.runtime.sessions() as session, session.begin():
            source = sources.poll_soon(session, source_id)
            state = source.state
    except sources.SourceError as exc:
        return _back(request, str(exc))
    if state != SourceState.ACTIVE.value:
        return _back(request, f"Source {source_id} is {state}; resume it first.")
    poll_source.send(source_id)
    return _back(request, f"Source {source_id} will be polled in a moment; reload to see the result.")
