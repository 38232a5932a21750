"""The review queue: newest first, approve with edits, reject with a reason, no double decisions."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from services.core.db.models import AuditEntry, Event, Tool, Verdict
from services.core.runtime import Runtime
from services.review import queue
from services.review.queue import ReviewConflict, ReviewError, ToolEdits
from tests import factories


def test_candidates_are_listed_newest_first_with_evidence(rt: Runtime) -> None:
    with rt.sessions() as session, session.begin():
        factories.candidate(session, "Older")
        factories.candidate(session, "Newer")
    with rt.sessions() as session:
        rows = queue.candidate_rows(session)
    assert [row["name"] for row in rows] == ["Newer", "Older"]
    assert {"id", "name", "score", "reasons", "evidence"} <= set(rows[0])


def test_approving_applies_edits_opens_a_verdict_and_audits(rt: Runtime) -> None:
    # Given a candidate
    with rt.sessions() as session, session.begin():
        tool_id = factories.candidate(session, "raw name").id
    # When an editor approves it with corrections
    with rt.sessions() as session, session.begin():
        queue.approve(session, tool_id, None, ToolEdits(name="Proper Name", category="Agents", entry_price="$20/mo"))
    # Then the tool carries them, the panel has a verdict to give, and the decision is on record
    with rt.sessions() as session:
        tool = session.get(Tool, tool_id)
        assert (tool.name, tool.category, tool.entry_price, tool.state) == ("Proper Name", "Agents", "$20/mo", "approved")
        assert session.scalar(select(Verdict).where(Verdict.tool_id == tool_id)) is not None
        assert session.scalar(select(AuditEntry).where(AuditEntry.action == "tool.approve")) is not None
        assert "tool.approved" in session.scalars(select(Event.type)).all()


def test_a_second_decision_on_the_same_candidate_is_a_conflict(rt: Runtime) -> None:
    with rt.sessions() as session, session.begin():
        tool_id = factories.candidate(session, "contested").id
    with rt.sessions() as session, session.begin():
        queue.approve(session, tool_id, None)
    with pytest.raises(ReviewConflict, match="already approved"), rt.sessions() as session, session.begin():
        queue.reject(session, tool_id, None, "too late")
    with rt.sessions() as session:
        assert session.get(Tool, tool_id).state == "approved"


def test_a_rejection_needs_a_reason(rt: Runtime) -> None:
    with rt.sessions() as session, session.begin():
        tool_id = factories.candidate(session, "meh").id
        with pytest.raises(ReviewError):
            queue.reject(session, tool_id, None, "  ")
