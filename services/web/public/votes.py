"""Community votes from the digest's signed links: GET shows a confirm page, only its POST votes."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from services.review import votes
from services.review.votes import VoteLinkError
from services.web.csrf import csrf_protected
from services.web.rendering import message, page

router = APIRouter()


@router.get("/vote/{token}", response_class=HTMLResponse)
def confirm_vote(request: Request, token: str) -> HTMLResponse:
    runtime = request.app.state.runtime
    try:
        with runtime.sessions() as session:
            wanted = votes.read_link(session, runtime.settings.secret(), token)
    except VoteLinkError as exc:
        return message(request, "This link does not work", str(exc), 400)
    return page(request, "vote_confirm.html", token=token, tool=wanted.tool, call=wanted.call.value,
                current=wanted.current)


@router.post("/vote/{token}", response_class=HTMLResponse, dependencies=[Depends(csrf_protected)])
def cast_vote(request: Request, token: str) -> HTMLResponse:
    runtime = request.app.state.runtime
    try:
        with runtime.sessions() as session, session.begin():
            wanted = votes.read_link(session, runtime.settings.secret(), token)
            votes.cast(session, wanted.subscriber_id, wanted.tool.id, wanted.call)
            percent = votes.community_percent(session, [wanted.tool.id])[wanted.tool.id]
            tool_name, tool_slug = wanted.tool.name, wanted.tool.slug
    except VoteLinkError as exc:
        return message(request, "This link does not work", str(exc), 400)
    return page(request, "vote_done.html", tool_name=tool_name, tool_slug=tool_slug, call=wanted.call.value,
                percent=percent)
