"""Community votes from the digest's signed links: GET shows a confirm page, only its POST votes."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from services.core import links
from services.review import votes
from services.web.csrf import csrf_protected
from services.web.db import DbSession
from services.web.rendering import page

router = APIRouter()


@router.get(links.VOTE_PATH + "{token}", response_class=HTMLResponse)
def confirm_vote(request: Request, token: str, session: DbSession) -> HTMLResponse:
    wanted = votes.read_link(session, request.app.state.runtime.settings.secret(), token)
    return page(request, "vote_confirm.html", token=token, tool=wanted.tool, call=wanted.call,
                current=wanted.current)


@router.post(links.VOTE_PATH + "{token}", response_class=HTMLResponse, dependencies=[Depends(csrf_protected)])
def cast_vote(request: Request, token: str, session: DbSession) -> HTMLResponse:
    wanted = votes.read_link(session, request.app.state.runtime.settings.secret(), token)
    votes.cast(session, wanted.subscriber_id, wanted.tool.id, wanted.call)
    percent = votes.community_percent(session, [wanted.tool.id])[wanted.tool.id]
    return page(request, "vote_done.html", tool_name=wanted.tool.name, tool_slug=wanted.tool.slug, call=wanted.call,
                percent=percent)
