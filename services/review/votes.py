"""Community votes: one ship-or-skip per subscriber per tool, changeable."""

from __future__ import annotations

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from services.core.db.models import Vote
from services.core.domain import Call, ship_percent


def cast(session: Session, subscriber_id: int, tool_id: int, call: Call) -> Vote:
    vote = session.scalar(select(Vote).where(Vote.subscriber_id == subscriber_id, Vote.tool_id == tool_id))
    if vote is None:
        vote = Vote(subscriber_id=subscriber_id, tool_id=tool_id, call=call.value)
        session.add(vote)
    else:
        vote.call = call.value
    session.flush()
    return vote


def community_percent(session: Session, tool_ids: list[int]) -> dict[int, int | None]:
    """Share of subscriber votes that said ship, per tool; None before any vote."""
    rows = session.execute(
        select(Vote.tool_id, func.count(), func.sum(case((Vote.call == Call.SHIP.value, 1), else_=0)))
        .where(Vote.tool_id.in_(tool_ids))
        .group_by(Vote.tool_id)
    ).all()
    found = {tool_id: ship_percent(int(ships or 0), int(total)) for tool_id, total, ships in rows}
    return {tool_id: found.get(tool_id) for tool_id in tool_ids}
