"""The public archive of sent digests: a list, one page per digest, and an Atom feed."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from services.core import links
from services.core.db.base import utcnow
from services.digest import archive
from services.web.db import DbSession
from services.web.rendering import page

router = APIRouter()
ATOM = "application/atom+xml; charset=utf-8"


@router.get(links.ARCHIVE_PATH, response_class=HTMLResponse)
def archive_index(request: Request, session: DbSession) -> HTMLResponse:
    settings = request.app.state.runtime.settings
    entries = [archive.entry(settings, d) for d in archive.sent(session)]
    return page(request, "archive.html", entries=entries, canonical=links.archive(settings))


@router.get(links.ARCHIVE_PATH + ".atom")
def archive_feed(request: Request, session: DbSession) -> Response:
    settings = request.app.state.runtime.settings
    entries = [archive.entry(settings, d) for d in archive.sent(session, archive.FEED_LIMIT)]
    updated = entries[0].sent_at if entries else utcnow().isoformat(timespec="seconds").replace("+00:00", "Z")
    return request.app.state.templates.TemplateResponse(
        request, "archive.atom.xml", {"entries": entries, "updated": updated, "base": settings.public_url},
        media_type=ATOM)


@router.get(links.ARCHIVE_PATH + "/{week}", response_class=HTMLResponse)
def archive_digest(request: Request, week: str, session: DbSession) -> HTMLResponse:
    """The digest as subscribers read it, with public links instead of personal ones."""
    settings = request.app.state.runtime.settings
    digest = archive.readable_week(session, week)
    if digest is None:
        raise HTTPException(status_code=404, detail=f"No digest was sent for {week}.")
    return HTMLResponse(archive.public_html(settings, digest))
