"""The panel: a verdict completes when every active seat has called; ship % is ships over calls."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from services.core.db.models import Event, Verdict
from services.core.domain import Call
from services.core.runtime import Runtime
from services.review import panel, queue
from services.review.errors import PanelError, VerdictComplete
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
    with pytest.raises(VerdictComplete), rt.sessions() as session, session.begin():
        panel.submit(session, verdict_id, seats[0], Call.SKIP, "too late")


def test_a_quorum_completes_the_verdict_before_every_seat_has_called(rt: Runtime) -> None:
    verdict_id, seats = _open_verdict(rt)
    # Given a quorum of three; When three seats call
    with rt.sessions() as session, session.begin():
        for seat_id, call in zip(seats[:3], (Call.SHIP, Call.SKIP, Call.SHIP)):
            panel.submit(session, verdict_id, seat_id, call, "quick call", quorum=3)
    # Then the verdict is complete over those three calls
    with rt.sessions() as session:
        verdict = session.get(Verdict, verdict_id)
        assert (verdict.state, verdict.ship_percent) == ("completed", 67)


def test_an_inactive_seat_is_not_waited_for(rt: Runtime) -> None:
    verdict_id, seats = _open_verdict(rt)
    # Given the buyer seat is made inactive
    with rt.sessions() as session, session.begin():
        panel.set_active(session, seats[3], False)
    # Then it cannot call
    with pytest.raises(PanelError, match="no active seat"), rt.sessions() as session, session.begin():
        panel.submit(session, verdict_id, seats[3], Call.SHIP, "not my turn")
    # And the verdict completes with the three active seats
    with rt.sessions() as session, session.begin():
        for seat_id in seats[:3]:
            panel.submit(session, verdict_id, seat_id, Call.SHIP, "yes")
    with rt.sessions() as session:
        assert session.get(Verdict, verdict_id).state == "completed"


def test_a_reviewer_sees_open_verdicts_to_call_first_then_the_called_ones(rt: Runtime) -> None:
    # Given two open verdicts, one of which the builder seat has called
    with rt.sessions() as session, session.begin():
        seats = panel.ensure_seats(session)
        first, second = factories.candidate(session, "First"), factories.candidate(session, "Second")
        queue.approve(session, first.id, None)
        queue.approve(session, second.id, None)
        panel.submit(session, factories.tool_verdict_id(session, first), seats[0].id, Call.SHIP, "done")
    # When the builder looks at the to-do list
    with rt.sessions() as session:
        items = panel.todo(session, [s for s in panel.all_seats(session) if s.lens == "builder"])
        # Then the uncalled one comes first, and the called one shows the call (still editable)
        assert [(i.tool.name, i.card.call if i.card else None) for i in items] == [("Second", None), ("First", "ship")]


def test_a_new_lens_becomes_a_seat_the_verdict_waits_for(rt: Runtime) -> None:
    with rt.sessions() as session, session.begin():
        panel.ensure_seats(session)
        seat = panel.add_seat(session, "Security")
        assert (seat.lens, seat.position) == ("security", 4)
        with pytest.raises(PanelError):
            panel.add_seat(session, "security")
