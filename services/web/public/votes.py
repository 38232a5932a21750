"""Community votes from the digest's signed links: GET shows a confirm page, only its POST votes."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from services.core import links
from services.review import votes
from services.web.csrf import csrf_protected
from services.web.db import DbSession
from services.web.ids import RowId
from services.web.rendering import page

router = APIRouter()


@router.get(links.VOTE_PATH + "{token}", response_class=HTMLResponse)
def confirm_vote(request: Request, token: str, session: DbSession) -> HTMLResponse:
    """A vote link of a digest sent before ballots (``links.vote``)."""
    wanted = votes.read_link(session, request.app.state.runtime.settings.secret(), token)
    return _confirm_page(request, wanted, request.url.path)


@router.post(links.VOTE_PATH + "{token}", response_class=HTMLResponse, dependencies=[Depends(csrf_protected)])
def cast_vote(request: Request, token: str, session: DbSession) -> HTMLResponse:
    return _cast(request, session, votes.read_link(session, request.app.state.runtime.settings.secret(), token))


@router.get(links.VOTE_PATH + "{token}/{tool_id}/{call}", response_class=HTMLResponse)
def confirm_ballot_vote(request: Request, token: str, tool_id: RowId, call: str, session: DbSession) -> HTMLResponse:
    """A digest's vote link (``links.ballot_vote``): the ballot, then the tool and the call."""
    wanted = votes.read_ballot(session, request.app.state.runtime.settings.secret(), token, tool_id, call)
    return _confirm_page(request, wanted, request.url.path)


@router.post(links.VOTE_PATH + "{token}/{tool_id}/{call}", response_class=HTMLResponse,
             dependencies=[Depends(csrf_protected)])
def cast_ballot_vote(request: Request, token: str, tool_id: RowId, call: str, session: DbSession) -> HTMLResponse:
    secret = request.app.state.runtime.settings.secret()
    return _cast(request, session, votes.read_ballot(session, secret, token, tool_id, call))


def _confirm_page(request: Request, wanted: votes.VoteRequest, action: str) -> HTMLResponse:
    """The page with one button, posting back to the link's own path (a GET never votes)."""
    return page(request, "vote_confirm.html", action=action, tool=wanted.tool, call=wanted.call,
                current=wanted.current)


def _cast(request: Request, session: Session, wanted: votes.VoteRequest) -> HTMLResponse:
    votes.cast(session, wanted.subscriber_id, wanted.tool.id, wanted.call)
    percent = votes.community_percent(session, [wanted.tool.id])[wanted.tool.id]
    return page(request, "vote_done.html", tool_name=wanted.tool.name, tool_slug=wanted.tool.slug, call=wanted.call,
                percent=percent)
