"""The reviewer panel: seats with lenses, their scorecards, and when a verdict completes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.core import events
from services.core.db.base import utcnow
from services.core.db.models import PanelSeat, Scorecard, Verdict
from services.core.domain import DEFAULT_LENSES, Call, VerdictState, ship_percent


class PanelError(ValueError):
    pass


def ensure_seats(session: Session, lenses: tuple[str, ...] = DEFAULT_LENSES) -> list[PanelSeat]:
    """The panel's seats, creating any of ``lenses`` that is missing."""
    existing = {seat.lens: seat for seat in session.scalars(select(PanelSeat))}
    for position, lens in enumerate(lenses):
        if lens not in existing:
            existing[lens] = PanelSeat(lens=lens, position=position)
            session.add(existing[lens])
    session.flush()
    return sorted(existing.values(), key=lambda seat: (seat.position, seat.id))


def active_seats(session: Session) -> list[PanelSeat]:
    return list(session.scalars(select(PanelSeat).where(PanelSeat.active).order_by(PanelSeat.position, PanelSeat.id)))


def submit(session: Session, verdict_id: int, seat_id: int, call: Call, quote: str) -> Verdict:
    """Record (or change) one seat's call; completes the verdict when every active seat has called."""
    verdict = session.get(Verdict, verdict_id)
    if verdict is None:
        raise PanelError(f"no verdict with id {verdict_id}")
    if verdict.state == VerdictState.COMPLETED.value:
        raise PanelError("this verdict is complete; calls can no longer change")
    if not quote.strip():
        raise PanelError("a call needs a quote")
    card = session.scalar(select(Scorecard).where(Scorecard.verdict_id == verdict_id, Scorecard.seat_id == seat_id))
    if card is None:
        card = Scorecard(verdict_id=verdict_id, seat_id=seat_id, call=call.value, quote=quote.strip())
        session.add(card)
    else:
        card.call, card.quote = call.value, quote.strip()
    session.flush()
    _complete_if_ready(session, verdict)
    return verdict


def _complete_if_ready(session: Session, verdict: Verdict) -> None:
    seat_ids = {seat.id for seat in active_seats(session)}
    cards = [card for card in session.scalars(select(Scorecard).where(Scorecard.verdict_id == verdict.id))
             if card.seat_id in seat_ids]
    if not seat_ids or len(cards) < len(seat_ids):
        return
    verdict.state = VerdictState.COMPLETED.value
    verdict.ship_percent = ship_percent(sum(card.call == Call.SHIP.value for card in cards), len(cards))
    verdict.completed_at = utcnow()
    events.record(session, "verdict.completed", verdict_id=verdict.id, tool_id=verdict.tool_id)
