"""Editor pages: the review queue and the digest preview."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from services.core.db.models import User
from services.core.domain import Role
from services.digest import compose, delivery
from services.review import queue
from services.web.auth import require

router = APIRouter(prefix="/editor")
editor = require(Role.EDITOR)


@router.get("/queue", response_class=HTMLResponse)
def review_queue(request: Request, user: User = Depends(editor)) -> HTMLResponse:
    with request.app.state.runtime.sessions() as session:
        tools = queue.candidates(session)
        rows = [(tool, list(tool.evidence)) for tool in tools]
    return request.app.state.templates.TemplateResponse(request, "queue.html", {"user": user, "rows": rows})


@router.get("/digests/{week}", response_class=HTMLResponse)
def digest_preview(request: Request, week: str, user: User = Depends(editor)) -> HTMLResponse:
    with request.app.state.runtime.sessions() as session:
        digest = compose.by_week(session, week)
        sent = delivery.progress(session, digest.id) if digest else {}
    if digest is None:
        return request.app.state.templates.TemplateResponse(
            request, "message.html", {"user": user, "title": "No digest", "message": f"No digest for {week} yet."},
            status_code=404)
    return request.app.state.templates.TemplateResponse(
        request, "digest_preview.html", {"user": user, "digest": digest, "progress": sent})


@router.get("/digests/{week}/html", response_class=HTMLResponse)
def digest_html(request: Request, week: str, user: User = Depends(editor)) -> HTMLResponse:
    with request.app.state.runtime.sessions() as session:
        digest = compose.by_week(session, week)
    if digest is None or digest.html is None:
        return HTMLResponse("no digest", status_code=404)
    return HTMLResponse(digest.html)
