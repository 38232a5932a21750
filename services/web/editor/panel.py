"""The panel's pages: a reviewer's to-do list and calls, the editors' view of open verdicts and seats."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from services.core import limits
from services.core.db.models import PanelSeat, User
from services.core.domain import Call, Role, VerdictState
from services.review import panel
from services.web.auth import require
from services.web.csrf import csrf_protected
from services.web.db import DbSession
from services.web.forms import checked_text_field
from services.web.ids import FormRowId, RowId
from services.web.rendering import message, page

router = APIRouter()
panelist = require(Role.REVIEWER, Role.EDITOR)
reviewer = require(Role.REVIEWER)
editor = require(Role.EDITOR)


@router.get("/panel", response_class=HTMLResponse)
def panel_page(request: Request, session: DbSession, user: User = Depends(panelist)) -> HTMLResponse:
    seats = panel.all_seats(session) if user.role == Role.ADMIN else panel.seats_of(session, user)
    todo = panel.todo(session, seats)
    overview = panel.open_verdicts(session) if user.role != Role.REVIEWER else []
    all_seats = panel.all_seats(session) if user.role != Role.REVIEWER else []
    holder_ids = [seat.user_id for seat in all_seats if seat.user_id]
    holders = {user_id: email for user_id, email in
               session.execute(select(User.id, User.email).where(User.id.in_(holder_ids)))}
    active = sum(seat.active for seat in all_seats)
    quorum = request.app.state.runtime.settings.panel_quorum
    return page(request, "panel.html", todo=todo, seats=seats, overview=overview, all_seats=all_seats,
                holders=holders, needed=min(quorum, active) if quorum else active, flash=request.session.pop("flash", None))


@router.post("/panel/{verdict_id}/call", dependencies=[Depends(csrf_protected)], response_model=None)
def submit_call(request: Request, verdict_id: RowId, session: DbSession, seat_id: FormRowId,
                call: str = Form("", max_length=limits.CHOICE),
                quote: str = checked_text_field(limits.QUOTE), user: User = Depends(reviewer)) -> Response:
    if call not in (Call.SHIP, Call.SKIP):
        return message(request, "Pick ship or skip", "A call is either ship or skip.", 400)
    seat = session.get(PanelSeat, seat_id)
    if seat is None or (seat.user_id != user.id and user.role != Role.ADMIN):
        return message(request, "Not your seat", "You can only call for the seat you hold.", 403)
    verdict = panel.submit(session, verdict_id, seat_id, Call(call), quote,
                           quorum=request.app.state.runtime.settings.panel_quorum, user=user)
    done = verdict.state == VerdictState.COMPLETED
    request.session["flash"] = f"{verdict.tool.name}: your {call} is in." + (" The verdict is complete." if done else "")
    return RedirectResponse("/editor/panel", status_code=303)


@router.post("/panel/seats", dependencies=[Depends(csrf_protected)], response_model=None)
def add_seat(request: Request, session: DbSession, lens: str = checked_text_field(limits.LENS),
             user: User = Depends(editor)) -> Response:
    seat = panel.add_seat(session, lens)
    request.session["flash"] = f"Added the {seat.lens} seat."
    return RedirectResponse("/editor/panel", status_code=303)


@router.post("/panel/seats/{seat_id}/active", dependencies=[Depends(csrf_protected)], response_model=None)
def seat_active(request: Request, seat_id: RowId, session: DbSession, active: bool = Form(...),
                user: User = Depends(editor)) -> Response:
    seat = panel.set_active(session, seat_id, active)
    request.session["flash"] = f"The {seat.lens} seat is {'active' if active else 'inactive'}."
    return RedirectResponse("/editor/panel", status_code=303)
