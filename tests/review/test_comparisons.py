"""Comparisons: only tools with completed verdicts pair up; the view carries both sides and the scorecard."""

from __future__ import annotations

import pytest

from services.core.domain import Call
from services.core.runtime import Runtime
from services.review import comparisons, votes
from services.review.comparisons import ComparisonError
from tests import factories


def test_a_comparison_view_has_both_sides_and_every_seats_quote(rt: Runtime) -> None:
    with rt.sessions() as session, session.begin():
        comparison = factories.published_comparison(session, "Alpha", "Beta")
        view = comparisons.view(session, comparison)
    assert view.title == "Alpha vs Beta"
    assert (view.a.panel_ship_percent, view.b.panel_ship_percent) == (75, 25)
    assert (view.a.community_percent, view.b.community_percent) == (None, None)
    assert [row.lens for row in view.scorecard] == ["builder", "skeptic", "strategist", "buyer"]
    assert view.scorecard[0].a_quote == "builder on Alpha: ship"


def test_a_tool_without_a_completed_verdict_cannot_be_compared(rt: Runtime) -> None:
    with rt.sessions() as session, session.begin():
        done = factories.judged_tool(session, "Done", (Call.SHIP,) * 4)
        pending = factories.candidate(session, "Pending")
        with pytest.raises(ComparisonError, match="no completed verdict"):
            comparisons.create(session, done.id, pending.id)


def test_community_percent_counts_one_changeable_vote_per_subscriber(rt: Runtime) -> None:
    with rt.sessions() as session, session.begin():
        tool = factories.judged_tool(session, "Voted", (Call.SHIP,) * 4)
        one = factories.confirmed_subscriber(session, "one@example.org")
        two = factories.confirmed_subscriber(session, "two@example.org")
        votes.cast(session, one.id, tool.id, Call.SKIP)
        votes.cast(session, one.id, tool.id, Call.SHIP)
        votes.cast(session, two.id, tool.id, Call.SKIP)
        assert votes.community_percent(session, [tool.id]) == {tool.id: 50}
