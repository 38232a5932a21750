"""Comparisons: only tools with completed verdicts pair up; the view carries both sides and the scorecard."""

from __future__ import annotations

import pytest

from services.core.db.models import Comparison
from services.core.domain import Call
from services.core.runtime import Runtime
from services.review import comparisons, votes
from services.review.errors import ComparisonError
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


def test_suggestions_pair_finished_tools_of_one_category_newest_first(rt: Runtime) -> None:
    # Given three finished tools in one category, one in another, and one already compared pair
    with rt.sessions() as session, session.begin():
        a = factories.judged_tool(session, "A", (Call.SHIP,) * 4, category="Agents")
        b = factories.judged_tool(session, "B", (Call.SHIP,) * 4, category="Agents")
        factories.judged_tool(session, "Lonely", (Call.SHIP,) * 4, category="Audio")
        factories.judged_tool(session, "C", (Call.SKIP,) * 4, category="Agents")
        comparisons.create(session, a.id, b.id)
    # When the editor asks for suggestions
    with rt.sessions() as session:
        pairs = [(s.a.name, s.b.name, s.category) for s in comparisons.suggestions(session)]
    # Then only the uncompared pairs in one category come, the most recently ready first
    assert pairs == [("C", "B", "Agents"), ("C", "A", "Agents")]


def test_editing_a_comparison_changes_headline_note_order_and_sides(rt: Runtime) -> None:
    with rt.sessions() as session, session.begin():
        a = factories.judged_tool(session, "A", (Call.SHIP,) * 4)
        b = factories.judged_tool(session, "B", (Call.SKIP,) * 4)
        comparison_id = comparisons.create(session, a.id, b.id).id
    with rt.sessions() as session, session.begin():
        comparisons.update(session, comparison_id, headline="The big one", editor_note="  ", position=2,
                           swap_sides=True)
    with rt.sessions() as session:
        view = comparisons.view(session, session.get(Comparison, comparison_id))
        assert (view.headline, view.editor_note, view.title, view.state) == ("The big one", None, "B vs A", "draft")
    with pytest.raises(ComparisonError), rt.sessions() as session, session.begin():
        comparisons.update(session, comparison_id, headline=" ", editor_note=None, position=0)
