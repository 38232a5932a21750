"""Compiling: one digest per week, carrying published comparisons not yet carried, rendered once."""

from __future__ import annotations

from sqlalchemy import func, select

from services.core.db.models import Comparison, Digest
from services.core.runtime import Runtime
from services.digest import compose, placeholders
from tests import factories

WEEK = "2026-W48"


def test_compiling_twice_yields_one_digest(rt: Runtime) -> None:
    with rt.sessions() as session, session.begin():
        factories.published_comparison(session)
    with rt.sessions() as session, session.begin():
        first = compose.compile_week(session, rt.settings, WEEK).id
    with rt.sessions() as session, session.begin():
        second = compose.compile_week(session, rt.settings, WEEK).id
    with rt.sessions() as session:
        assert first == second
        assert session.scalar(select(func.count()).select_from(Digest)) == 1


def test_the_digest_carries_the_comparison_with_placeholders_for_personal_links(rt: Runtime) -> None:
    with rt.sessions() as session, session.begin():
        comparison = factories.published_comparison(session, "Alpha", "Beta")
        digest = compose.compile_week(session, rt.settings, WEEK)
        a_id = comparison.tool_a_id
    assert digest.subject.startswith("Alpha vs Beta")
    assert "Alpha vs Beta" in digest.html and "Alpha vs Beta" in digest.text
    assert "https://verdicts.example.org/c/alpha-vs-beta" in digest.text
    for marker in (placeholders.UNSUBSCRIBE, placeholders.PREFERENCES, placeholders.vote(a_id, "ship")):
        assert marker in digest.html and marker in digest.text
    assert "75%" in digest.text and "25%" in digest.text


def test_a_comparison_goes_into_one_digest_only(rt: Runtime) -> None:
    with rt.sessions() as session, session.begin():
        factories.published_comparison(session)
        compose.compile_week(session, rt.settings, WEEK)
    with rt.sessions() as session, session.begin():
        assert compose.compile_week(session, rt.settings, "2027-W10") is None
        assert session.scalar(select(func.count()).select_from(Comparison).where(Comparison.mailed_in_digest_id.is_(None))) == 0


def test_an_empty_week_has_no_digest_unless_forced(rt: Runtime) -> None:
    with rt.sessions() as session, session.begin():
        assert compose.compile_week(session, rt.settings, WEEK) is None
        forced = compose.compile_week(session, rt.settings, WEEK, force=True)
    assert forced is not None and forced.week == WEEK
