"""The review queue: newest first, approve with edits, reject with a reason, no double decisions."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from services.core.db.models import AuditEntry, Event, Evidence, Tool, Verdict
from services.core.domain import Call
from services.core.runtime import Runtime
from services.review import queue
from services.review.errors import ReviewConflict, ReviewError
from services.review.queue import QueueFilter
from services.review.tool_edits import ToolEdits
from tests import factories


def test_candidates_are_listed_newest_first_with_evidence(rt: Runtime) -> None:
    with rt.sessions() as session, session.begin():
        factories.candidate(session, "Older")
        factories.candidate(session, "Newer")
    with rt.sessions() as session:
        rows = queue.candidate_rows(session)
    assert [row["name"] for row in rows] == ["Newer", "Older"]
    assert {"id", "name", "score", "reasons", "evidence"} <= set(rows[0])


def test_a_queue_row_shows_score_reasons_model_version_every_name_and_evidence_and_nothing_else_changed(
        rt: Runtime) -> None:
    from services.review.tool_edits import EDITABLE_FIELDS

    # Given a candidate scored by a model version, seen in an entry that named two tools
    with rt.sessions() as session, session.begin():
        tool = factories.candidate(session, "Muse Image", score=0.876)
        tool.reasons, tool.model_version = ["title says 'Introducing'"], "m-0123456789ab"
        session.add(Evidence(tool_id=tool.id, source_url="https://ai.example.org/feed", url="https://ai.example.org/muse",
                             title="Introducing Muse Image and Muse Video", names=["Muse Image", "Muse Video"]))
    # When the queue is listed as JSON-ready rows
    with rt.sessions() as session:
        [row] = queue.candidate_rows(session)
    # Then the row carries the score, reasons, model version, every name found, and the evidence
    assert (row["score"], row["reasons"], row["model_version"]) == (0.88, ["title says 'Introducing'"], "m-0123456789ab")
    assert row["names"] == ["Muse Image", "Muse Video"]
    assert row["evidence"] == [{"url": "https://ai.example.org/muse", "source": "https://ai.example.org/feed",
                                "title": "Introducing Muse Image and Muse Video", "snippet": "",
                                "names": ["Muse Image", "Muse Video"]}]
    # And the rest of the shape is what it was before detection added those fields
    before = {"id", "revision", "state", *(f.name for f in EDITABLE_FIELDS), "score", "reasons", "snoozed_until",
              "merged_into_id", "created_at", "evidence"}
    assert set(row) == before | {"model_version", "names"}


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


def test_filters_and_search_narrow_the_queue(any_runtime: Runtime) -> None:
    rt = any_runtime
    # Given candidates from two sources, in two categories, with different scores
    with rt.sessions() as session, session.begin():
        low = factories.candidate(session, "Low Scorer", score=0.55)
        high = factories.candidate(session, "High Scorer", score=0.95)
        high.category, high.vendor = "Agents", "Acme"
        low.evidence.append(Evidence(source_url="https://a.example/feed", url="https://a.example/1", title="t"))
        high.evidence.append(Evidence(source_url="https://b.example/feed", url="https://b.example/1", title="t"))
    with rt.sessions() as session:
        def names(**kw: object) -> list[str]:
            return [t.name for t in queue.search(session, QueueFilter(**kw)).tools]  # type: ignore[arg-type]
        # Then each filter keeps only what matches, and search looks at name and vendor
        assert names(min_score=0.9) == ["High Scorer"]
        assert names(category="Agents") == ["High Scorer"]
        assert names(source="https://a.example/feed") == ["Low Scorer"]
        assert names(search="acme") == ["High Scorer"]
        assert names(search="scorer") == ["High Scorer", "Low Scorer"]
        assert names(search="100%_") == []
        assert queue.search(session, QueueFilter()).total == 2


def test_a_search_term_longer_than_any_name_finds_nothing_instead_of_failing(any_runtime: Runtime) -> None:
    # Given a candidate whose name the term begins with
    with any_runtime.sessions() as session, session.begin():
        factories.candidate(session, "x" * 40)
    # When the queue is searched with a term of 100,000 characters (SQLite refuses LIKE patterns that long)
    with any_runtime.sessions() as session:
        found = queue.search(session, QueueFilter(search="x" * 100_000))
    # Then nothing matches, and no error is raised
    assert found.tools == [] and found.total == 0


def test_a_snoozed_candidate_leaves_the_queue_until_its_time(any_runtime: Runtime) -> None:
    rt = any_runtime
    with rt.sessions() as session, session.begin():
        tool_id = factories.candidate(session, "Later").id
    # When an editor snoozes it
    with rt.sessions() as session, session.begin():
        queue.snooze(session, tool_id, None, days=7)
    # Then it is listed under "snoozed", not in the queue, and can still be decided
    with rt.sessions() as session:
        assert queue.search(session).tools == []
        assert [t.id for t in queue.search(session, QueueFilter(state="snoozed")).tools] == [tool_id]
    with rt.sessions() as session, session.begin():
        tool = session.get(Tool, tool_id)
        tool.snoozed_until = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    with rt.sessions() as session:
        assert [t.id for t in queue.search(session).tools] == [tool_id]


def test_merging_moves_the_evidence_to_the_existing_tool(rt: Runtime) -> None:
    # Given an approved tool and a duplicate candidate with its own sighting
    with rt.sessions() as session, session.begin():
        target = factories.judged_tool(session, "Orbit", (Call.SHIP,) * 4)
        dupe = factories.candidate(session, "Orbit (again)")
        dupe.evidence.append(Evidence(source_url="https://a.example/feed", url="https://a.example/orbit",
                                      title="Orbit 2 ships"))
        target_id, dupe_id = target.id, dupe.id
    # When the editor merges the duplicate
    with rt.sessions() as session, session.begin():
        queue.merge(session, dupe_id, target_id, None)
    # Then the duplicate is closed, pointing at the tool, which now carries the sighting; it is audited
    with rt.sessions() as session:
        dupe = session.get(Tool, dupe_id)
        assert (dupe.state, dupe.merged_into_id) == ("merged", target_id)
        assert [ev.title for ev in session.get(Tool, target_id).evidence] == ["Orbit 2 ships"]
        assert session.scalar(select(AuditEntry.action).where(AuditEntry.subject == f"tool:{dupe_id}")) == "tool.merge"
    with pytest.raises(ReviewError), rt.sessions() as session, session.begin():
        queue.merge(session, target_id, target_id, None)


def test_a_decision_on_a_revision_someone_changed_is_a_conflict(rt: Runtime) -> None:
    # Given an editor who opened the candidate at revision 1, and a colleague who snoozed it since
    with rt.sessions() as session, session.begin():
        tool = factories.candidate(session, "Moving target")
        tool_id, seen = tool.id, tool.revision
    with rt.sessions() as session, session.begin():
        queue.snooze(session, tool_id, None, days=1)
    # When the first editor approves what they saw, Then it is a conflict and nothing changes
    with pytest.raises(ReviewConflict, match="changed by someone else"), rt.sessions() as session, session.begin():
        queue.approve(session, tool_id, None, ToolEdits(name="Renamed"), revision=seen)
    with rt.sessions() as session:
        assert (session.get(Tool, tool_id).state, session.get(Tool, tool_id).name) == ("candidate", "Moving target")


def test_two_simultaneous_decisions_apply_once(rt: Runtime) -> None:
    # Given two editors' transactions that both loaded the undecided candidate
    with rt.sessions() as session, session.begin():
        tool_id = factories.candidate(session, "Contested").id
    first, second = rt.sessions(), rt.sessions()
    try:
        first.begin()
        second.begin()
        first.get(Tool, tool_id)
        second.get(Tool, tool_id)
        # When the first approves and commits, and the second then rejects on its stale copy
        queue.approve(first, tool_id, None)
        first.commit()
        with pytest.raises(ReviewConflict):
            queue.reject(second, tool_id, None, "duplicate")
        second.rollback()
    finally:
        first.close()
        second.close()
    # Then only the approval happened: one verdict, one audit entry
    with rt.sessions() as session:
        assert session.get(Tool, tool_id).state == "approved"
        assert len(session.scalars(select(Verdict).where(Verdict.tool_id == tool_id)).all()) == 1
        assert session.scalars(select(AuditEntry.action)).all() == ["tool.approve"]


def test_bulk_actions_report_each_candidate_and_skip_the_decided(any_runtime: Runtime) -> None:
    rt = any_runtime
    with rt.sessions() as session, session.begin():
        ids = [factories.candidate(session, f"Bulk {n}").id for n in range(3)]
        queue.reject(session, ids[0], None, "noise")
    # When an editor approves all three at once
    with rt.sessions() as session, session.begin():
        outcomes = queue.bulk(session, "approve", ids, None)
    # Then the two undecided ones are approved and the rejected one is reported, not changed
    assert [o.ok for o in outcomes] == [False, True, True]
    assert "already rejected" in outcomes[0].message
    with rt.sessions() as session:
        assert [session.get(Tool, i).state for i in ids] == ["rejected", "approved", "approved"]


def test_a_homepage_must_be_a_web_address(rt: Runtime) -> None:
    with rt.sessions() as session, session.begin():
        tool_id = factories.candidate(session, "Sneaky").id
        with pytest.raises(ReviewError, match="http"):
            queue.approve(session, tool_id, None, ToolEdits(homepage="javascript:alert(1)"))
