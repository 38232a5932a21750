"""The reviewer panel: seats with lenses, their scorecards, and when a verdict completes.

A verdict completes when every active seat has called, or, when a quorum is set, when that many
active seats have. Until then each seat may change its call and quote.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from services.core import events, limits
from services.core.db.base import utcnow
from services.core.db.models import AuditEntry, PanelSeat, Scorecard, Tool, User, Verdict
from services.core.domain import DEFAULT_LENSES, Call, VerdictState, ship_percent
from services.core.text import checked_text
from services.review.errors import PanelError, SeatNotFound, VerdictComplete, VerdictNotFound


def ensure_seats(session: Session, lenses: tuple[str, ...] = DEFAULT_LENSES) -> list[PanelSeat]:
    """The panel's seats, creating any of ``lenses`` that is missing."""
    existing = {seat.lens: seat for seat in session.scalars(select(PanelSeat))}
    for position, lens in enumerate(lenses):
        if lens not in existing:
            existing[lens] = PanelSeat(lens=lens, position=position)
            session.add(existing[lens])
    session.flush()
    return sorted(existing.values(), key=lambda seat: (seat.position, seat.id))


def all_seats(session: Session) -> list[PanelSeat]:
    return list(session.scalars(select(PanelSeat).order_by(PanelSeat.position, PanelSeat.id)))


def active_seats(session: Session) -> list[PanelSeat]:
    return list(session.scalars(select(PanelSeat).where(PanelSeat.active).order_by(PanelSeat.position, PanelSeat.id)))


def lens_name(lens: str) -> str:
    """The one spelling of a lens: lower-cased, then cleaned by ``checked_text`` (control characters dropped).

    Raises ``PanelError`` for an empty lens or one over ``limits.LENS`` characters (counted once lower-cased,
    as stored).
    """
    return checked_text(lens.lower(), field="lens", max_length=limits.LENS, required=True, refuse=PanelError)


def seat_of_lens(session: Session, lens: str) -> PanelSeat | None:
    """The seat that holds ``lens`` (in any spelling ``lens_name`` folds together), or None."""
    return session.scalar(select(PanelSeat).where(PanelSeat.lens == lens_name(lens)))


def add_seat(session: Session, lens: str) -> PanelSeat:
    """A new active seat for ``lens`` (see ``lens_name``), placed last.

    Raises ``PanelError`` for an empty or overlong lens, or one that already has a seat.
    """
    lens = lens_name(lens)
    if seat_of_lens(session, lens) is not None:
        raise PanelError(f"there is already a {lens} seat")
    position = max((seat.position for seat in all_seats(session)), default=-1) + 1
    seat = PanelSeat(lens=lens, position=position)
    session.add(seat)
    session.flush()
    return seat


def set_active(session: Session, seat_id: int, active: bool) -> PanelSeat:
    """Open or close a seat; raises ``SeatNotFound``."""
    seat = session.get(PanelSeat, seat_id)
    if seat is None:
        raise SeatNotFound(f"no seat with id {seat_id}")
    seat.active = active
    session.flush()
    return seat


def seats_of(session: Session, user: User) -> list[PanelSeat]:
    """The active seats a reviewer holds."""
    return list(session.scalars(select(PanelSeat).where(PanelSeat.user_id == user.id, PanelSeat.active)
                                .order_by(PanelSeat.position)))


@dataclass(frozen=True)
class TodoItem:
    verdict_id: int
    tool: Tool
    seat: PanelSeat
    card: Scorecard | None


def todo(session: Session, seats: list[PanelSeat]) -> list[TodoItem]:
    """Open verdicts for each of ``seats``: those still to call first, then those called (still editable)."""
    if not seats:
        return []
    verdicts = list(session.scalars(select(Verdict).where(Verdict.state == VerdictState.OPEN)
                                    .options(selectinload(Verdict.tool)).order_by(Verdict.opened_at, Verdict.id)))
    cards = {(card.verdict_id, card.seat_id): card for card in session.scalars(
        select(Scorecard).where(Scorecard.verdict_id.in_([v.id for v in verdicts]),
                                Scorecard.seat_id.in_([s.id for s in seats])))} if verdicts else {}
    items = [TodoItem(v.id, v.tool, seat, cards.get((v.id, seat.id))) for v in verdicts for seat in seats]
    return sorted(items, key=lambda item: item.card is not None)


def open_verdicts(session: Session) -> list[tuple[Verdict, int]]:
    """Open verdicts with how many scorecards each has, oldest first: the editors' view of the panel."""
    verdicts = list(session.scalars(select(Verdict).where(Verdict.state == VerdictState.OPEN)
                                    .options(selectinload(Verdict.tool), selectinload(Verdict.scorecards))
                                    .order_by(Verdict.opened_at, Verdict.id)))
    return [(verdict, len(verdict.scorecards)) for verdict in verdicts]


def submit(session: Session, verdict_id: int, seat_id: int, call: Call, quote: str, *,
           quorum: int = 0, user: User | None = None) -> Verdict:
    """Record (or change) one seat's call; completes the verdict when enough active seats have called.

    ``quorum`` 0 means every active seat; a larger number lets the verdict complete with that many.
    The quote is cleaned by ``services.core.text.clean_text`` (control characters removed, line breaks
    kept). Raises ``VerdictNotFound``, ``VerdictComplete``, or ``PanelError`` (an inactive or unknown
    seat, an empty quote or one over ``limits.QUOTE`` characters).
    """
    verdict = session.get(Verdict, verdict_id)
    if verdict is None:
        raise VerdictNotFound(f"no verdict with id {verdict_id}")
    if verdict.state == VerdictState.COMPLETED:
        raise VerdictComplete("this verdict is complete; calls can no longer change")
    seat = session.get(PanelSeat, seat_id)
    if seat is None or not seat.active:
        raise PanelError(f"no active seat with id {seat_id}")
    quote = checked_text(quote, field="quote", max_length=limits.QUOTE, multiline=True, required=True,
                         refuse=PanelError)
    card = session.scalar(select(Scorecard).where(Scorecard.verdict_id == verdict_id, Scorecard.seat_id == seat_id))
    if card is None:
        card = Scorecard(verdict_id=verdict_id, seat_id=seat_id, call=call, quote=quote)
        session.add(card)
    else:
        card.call, card.quote = call, quote
    session.add(AuditEntry(user_id=user.id if user else None, action="verdict.call", subject=f"verdict:{verdict_id}",
                           detail={"seat": seat.lens, "call": call}))
    session.flush()
    _complete_if_ready(session, verdict, quorum)
    return verdict


def _complete_if_ready(session: Session, verdict: Verdict, quorum: int) -> None:
    seat_ids = {seat.id for seat in active_seats(session)}
    cards = [card for card in session.scalars(select(Scorecard).where(Scorecard.verdict_id == verdict.id))
             if card.seat_id in seat_ids]
    needed = min(quorum, len(seat_ids)) if quorum > 0 else len(seat_ids)
    if not seat_ids or len(cards) < needed:
        return
    verdict.state = VerdictState.COMPLETED
    verdict.ship_percent = ship_percent(sum(card.call == Call.SHIP for card in cards), len(cards))
    verdict.completed_at = utcnow()
    events.record(session, "verdict.completed", verdict_id=verdict.id, tool_id=verdict.tool_id)
