"""The panel: a verdict completes when every active seat has called; ship % is ships over calls."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from services.core.db.models import Event, Verdict
from services.core.domain import Call
from services.core.runtime import Runtime
from services.review import panel, queue
from services.review.panel import PanelError
from tests import factories


def _open_verdict(rt: Runtime) -> tuple[int, list[int]]:
    with rt.sessions() as session, session.begin():
        seats = [seat.id for seat in panel.ensure_seats(session)]
        tool = factories.candidate(session, "Judged")
        queue.approve(session, tool.id, None)
        return factories.tool_verdict_id(session, tool), seats


def test_the_default_panel_has_four_lenses(rt: Runtime) -> None:
    with rt.sessions() as session, session.begin():
        assert [seat.lens for seat in panel.ensure_seats(session)] == ["builder", "skeptic", "strategist", "buyer"]


def test_the_verdict_completes_with_the_last_seat_and_records_it(rt: Runtime) -> None:
    verdict_id, seats = _open_verdict(rt)
    calls = [Call.SHIP, Call.SHIP, Call.SKIP, Call.SHIP]
    # When three seats have called, Then the verdict is still open
    with rt.sessions() as session, session.begin():
        for seat_id, call in zip(seats[:3], calls[:3]):
            panel.submit(session, verdict_id, seat_id, call, "a quote")
    with rt.sessions() as session:
        assert session.get(Verdict, verdict_id).state == "open"
    # When the fourth calls
    with rt.sessions() as session, session.begin():
        panel.submit(session, verdict_id, seats[3], calls[3], "the last word")
    # Then it is complete at 75% ship, and verdict.completed is recorded
    with rt.sessions() as session:
        verdict = session.get(Verdict, verdict_id)
        assert (verdict.state, verdict.ship_percent) == ("completed", 75)
        assert session.scalars(select(Event.type).where(Event.type == "verdict.completed")).all() == ["verdict.completed"]


def test_a_seat_may_change_its_call_until_the_verdict_completes(rt: Runtime) -> None:
    verdict_id, seats = _open_verdict(rt)
    with rt.sessions() as session, session.begin():
        panel.submit(session, verdict_id, seats[0], Call.SKIP, "first thought")
        panel.submit(session, verdict_id, seats[0], Call.SHIP, "second thought")
        for seat_id in seats[1:]:
            panel.submit(session, verdict_id, seat_id, Call.SKIP, "no")
    with rt.sessions() as session:
        assert session.get(Verdict, verdict_id).ship_percent == 25
    with pytest.raises(PanelError), rt.sessions() as session, session.begin():
        panel.submit(session, verdict_id, seats[0], Call.SKIP, "too late")
