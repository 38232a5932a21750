"""Community votes: one ship-or-skip per subscriber per tool, changeable.

Votes arrive through a digest's links: a ballot signed for one subscriber and one digest, followed by
the tool and the call (``links.ballot_vote``), or, in digests sent before ballots, a link signed for one
subscriber, one tool and one call (``links.vote``). The link only identifies the vote; casting it takes a POST from the confirm page, so a mail scanner
that follows every link in a message never votes.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.core.db.models import Digest, Subscriber, Tool, Vote
from services.core.domain import Call, SubscriberState, ToolState, ship_percent
from services.core.links import BALLOT, VOTE
from services.core.tokens import TokenError, unsign
from services.review.errors import VoteLinkError

#: How long a vote link in a digest keeps working.
VOTE_LINK_MAX_AGE_SECONDS = 180 * 24 * 3600


@dataclass(frozen=True)
class VoteRequest:
    subscriber_id: int
    tool: Tool
    call: Call
    current: str | None


def read_link(session: Session, secret: str, token: str) -> VoteRequest:
    """What a vote link asks for; raises VoteLinkError with a message fit for the reader."""
    try:
        value = unsign(secret, VOTE, token, max_age_seconds=VOTE_LINK_MAX_AGE_SECONDS)
    except TokenError as exc:
        raise VoteLinkError(f"This vote link does not work: {exc}.") from exc
    if not (isinstance(value, list) and len(value) == 3 and all(isinstance(v, int) for v in value[:2])
            and value[2] in (Call.SHIP, Call.SKIP)):
        raise VoteLinkError("This vote link does not work: it is not a vote link.")
    subscriber_id, tool_id, call = value
    return _request(session, subscriber_id, tool_id, call)


def read_ballot(session: Session, secret: str, token: str, tool_id: int, call: str) -> VoteRequest:
    """What a digest's vote link (``links.ballot_vote``: a ballot token, then a tool and a call) asks for.

    The ballot names the subscriber and the digest that carried the link; the vote counts only for a tool
    that digest shows, so a ballot lets a reader vote on what they were sent and on nothing else. Raises
    VoteLinkError with a message fit for the reader.
    """
    try:
        value = unsign(secret, BALLOT, token, max_age_seconds=VOTE_LINK_MAX_AGE_SECONDS)
    except TokenError as exc:
        raise VoteLinkError(f"This vote link does not work: {exc}.") from exc
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) for v in value)
            and call in (Call.SHIP, Call.SKIP)):
        raise VoteLinkError("This vote link does not work: it is not a vote link.")
    subscriber_id, digest_id = value
    digest = session.get(Digest, digest_id)
    shown = {side.get("tool_id") for section in (digest.sections if digest else []) for side in section.get("sides", ())}
    if tool_id not in shown:
        raise VoteLinkError("This vote link does not work: its digest did not show that tool.")
    return _request(session, subscriber_id, tool_id, call)


def _request(session: Session, subscriber_id: int, tool_id: int, call: str) -> VoteRequest:
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None or subscriber.state == SubscriberState.UNSUBSCRIBED:
        raise VoteLinkError("This vote link belongs to a subscription that no longer exists.")
    tool = session.get(Tool, tool_id)
    if tool is None or tool.state != ToolState.APPROVED:
        raise VoteLinkError("The tool this link votes on is no longer listed.")
    current = session.scalar(select(Vote.call).where(Vote.subscriber_id == subscriber_id, Vote.tool_id == tool_id))
    return VoteRequest(subscriber_id, tool, Call(call), current)


def cast(session: Session, subscriber_id: int, tool_id: int, call: Call) -> Vote:
    """Record or change the subscriber's vote; a double click racing itself still leaves one vote."""
    query = select(Vote).where(Vote.subscriber_id == subscriber_id, Vote.tool_id == tool_id).with_for_update()
    vote = session.scalar(query)
    if vote is None:
        try:
            with session.begin_nested():
                vote = Vote(subscriber_id=subscriber_id, tool_id=tool_id, call=call)
                session.add(vote)
            return vote
        except IntegrityError:
            vote = session.scalar(query)  # the other request inserted it first: change that one
            assert vote is not None
    vote.call = call
    session.flush()
    return vote


def community_percent(session: Session, tool_ids: list[int]) -> dict[int, int | None]:
    """Share of subscriber votes that said ship, per tool; None before any vote."""
    rows = session.execute(
        select(Vote.tool_id, func.count(), func.sum(case((Vote.call == Call.SHIP, 1), else_=0)))
        .where(Vote.tool_id.in_(tool_ids))
        .group_by(Vote.tool_id)
    ).all()
    found = {tool_id: ship_percent(int(ships or 0), int(total)) for tool_id, total, ships in rows}
    return {tool_id: found.get(tool_id) for tool_id in tool_ids}
