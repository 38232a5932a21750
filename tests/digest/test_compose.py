"""Compiling: one digest per week, carrying published comparisons not yet carried, rendered once."""

from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text

from services.core.db.base import utcnow
from services.core.db.models import Comparison, Digest, Event
from services.core.domain import Call, DigestState
from services.core.runtime import Runtime
from services.digest import compose, editing
from services.digest.actors import compile_digest
from services.digest.errors import DigestEditError, DigestNotDraft
from services.mail import placeholders
from services.review import votes
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
        unmailed = select(func.count()).select_from(Comparison).where(Comparison.mailed_in_digest_id.is_(None))
        assert session.scalar(unmailed) == 0


def test_an_empty_week_has_no_digest_unless_forced(rt: Runtime) -> None:
    with rt.sessions() as session, session.begin():
        assert compose.compile_week(session, rt.settings, WEEK) is None
        forced = compose.compile_week(session, rt.settings, WEEK, force=True)
    assert forced is not None and forced.week == WEEK


def test_the_scheduled_actor_run_twice_yields_one_digest(rt: Runtime) -> None:
    # Given a published comparison
    with rt.sessions() as session, session.begin():
        factories.published_comparison(session)
    # When the scheduler's actor runs twice for the same week
    compile_digest(WEEK)
    compile_digest(WEEK)
    # Then there is one digest, and one compiled event
    with rt.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Digest)) == 1
        assert session.scalar(select(func.count()).select_from(Event).where(Event.type == "digest.compiled")) == 1


def test_the_digest_holds_comparisons_new_tools_and_last_weeks_votes(rt: Runtime) -> None:
    # Given a published comparison, a tool approved this week, and subscriber votes cast last week
    monday = dt.datetime(2026, 11, 23, tzinfo=dt.timezone.utc)  # Monday of 2026-W48
    with rt.sessions() as session, session.begin():
        comparison = factories.published_comparison(session, "Alpha", "Beta")
        fresh = factories.judged_tool(session, "Gamma", (Call.SHIP,) * 4)
        voters = [factories.confirmed_subscriber(session, f"v{n}@example.org") for n in range(3)]
        for voter, call in zip(voters, (Call.SHIP, Call.SHIP, Call.SKIP), strict=True):
            votes.cast(session, voter.id, comparison.tool_a_id, call).updated_at = monday - dt.timedelta(days=2)
        votes.cast(session, voters[0].id, fresh.id, Call.SKIP).updated_at = monday + dt.timedelta(days=1)
    # When the week is compiled
    with rt.sessions() as session, session.begin():
        digest = compose.compile_week(session, rt.settings, WEEK)
        kinds = [section["kind"] for section in digest.sections]
        community = digest.sections[kinds.index("community")]
        new_tools = digest.sections[kinds.index("new_tools")]
        text = digest.text
    # Then it carries each part: the comparison, the new tools, last week's votes only
    assert kinds == ["comparison", "new_tools", "community"]
    assert {t["name"] for t in new_tools["tools"]} == {"Alpha", "Beta", "Gamma"}
    assert community["results"] == [{"name": "Alpha", "url": "https://verdicts.example.org/t/alpha", "votes": 3,
                                     "ship": "67%"}]
    assert "New this week" in text and "Gamma" in text
    assert "Last week's community votes" in text and "Alpha: 67% ship · 3 votes" in text


def test_tools_announced_in_one_digest_are_not_new_in_the_next(rt: Runtime) -> None:
    # Given a digest that announced a newly approved tool
    with rt.sessions() as session, session.begin():
        factories.judged_tool(session, "Gamma", (Call.SHIP,) * 4)
        assert compose.compile_week(session, rt.settings, WEEK) is not None
    # When the next week is compiled with nothing new
    with rt.sessions() as session, session.begin():
        later = compose.compile_week(session, rt.settings, "2026-W49", now=utcnow() + dt.timedelta(days=1))
    # Then there is nothing to send
    assert later is None


def test_auto_approve_approves_the_compiled_digest(rt: Runtime) -> None:
    # Given a team that wants no human step
    settings = rt.settings.model_copy(update={"digest_auto_approve": True})
    with rt.sessions() as session, session.begin():
        factories.published_comparison(session)
    # When the week is compiled
    with rt.sessions() as session, session.begin():
        digest = compose.compile_week(session, settings, WEEK)
        state = digest.state
    # Then it is approved at once, and the delivery step is told
    with rt.sessions() as session:
        assert state == DigestState.APPROVED.value
        assert session.scalar(select(func.count()).select_from(Event).where(Event.type == "digest.approved")) == 1


def test_an_editor_changes_the_text_and_the_order_and_the_mail_follows(rt: Runtime) -> None:
    # Given a draft with two comparisons
    with rt.sessions() as session, session.begin():
        factories.published_comparison(session, "Alpha", "Beta")
        factories.published_comparison(session, "Gamma", "Delta")
        digest_id = compose.compile_week(session, rt.settings, WEEK).id
    # When the editor rewrites subject, preheader and intro and moves the second comparison up
    with rt.sessions() as session, session.begin():
        editing.edit_text(session, rt.settings, digest_id,
                          editing.TextEdits(subject="  Two  duels ", preheader="Who ships?", intro="Hello readers."))
        second = [s["id"] for s in session.get(Digest, digest_id).sections if s["kind"] == "comparison"][1]
        editing.move_section(session, rt.settings, digest_id, second, -1)
    # Then the stored mail shows the new text and order
    with rt.sessions() as session:
        digest = session.get(Digest, digest_id)
        assert (digest.subject, digest.preheader, digest.intro) == ("Two duels", "Who ships?", "Hello readers.")
        assert digest.sections[0]["id"] == second
        assert "Hello readers." in digest.html and "Who ships?" in digest.html
        assert digest.text.index("Gamma vs Delta") < digest.text.index("Alpha vs Beta")
        isolated = '<span dir="auto">{}</span> vs <span dir="auto">{}</span>'  # each name isolated (bidi)
        gamma_delta, alpha_beta = isolated.format("Gamma", "Delta"), isolated.format("Alpha", "Beta")
        assert digest.html.index(gamma_delta) < digest.html.index(alpha_beta)


def test_an_approved_digest_can_no_longer_change(rt: Runtime) -> None:
    # Given an approved digest
    with rt.sessions() as session, session.begin():
        factories.published_comparison(session)
        digest = compose.compile_week(session, rt.settings, WEEK)
        compose.approve(session, digest.id)
        digest_id = digest.id
    # Then edits are refused with the reason
    with rt.sessions() as session, session.begin():
        with pytest.raises(DigestNotDraft, match="only a draft"):
            editing.edit_text(session, rt.settings, digest_id, editing.TextEdits("New", "", ""))


def test_a_new_order_must_name_every_section_once(rt: Runtime) -> None:
    with rt.sessions() as session, session.begin():
        factories.published_comparison(session)
        digest = compose.compile_week(session, rt.settings, WEEK)
        with pytest.raises(DigestEditError, match="each section once"):
            editing.reorder(session, rt.settings, digest.id, ["comparison-999"])
        with pytest.raises(DigestEditError, match="cannot be empty"):
            editing.edit_text(session, rt.settings, digest.id, editing.TextEdits("  ", "", ""))


def test_the_scheduler_compiles_on_the_configured_cron_and_time_zone(tmp_path: Path) -> None:
    # Given a digest due on Fridays at 07:30, Paris time
    from apscheduler.schedulers.background import BackgroundScheduler

    from services.core import runtime
    from services.scheduler import add_ticks
    from tests.conftest import make_settings

    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'v.db'}", digest_cron="30 7 * * fri",
                             digest_timezone="Europe/Paris")
    runtime.install(Runtime.from_settings(settings))
    # When the scheduler's jobs are set up
    job = add_ticks(BackgroundScheduler(timezone="UTC")).get_job("digest")
    # Then the digest job fires next on a Friday at 07:30 in Paris
    paris = ZoneInfo("Europe/Paris")
    fire = job.trigger.get_next_fire_time(None, dt.datetime(2026, 11, 29, 12, tzinfo=paris)).astimezone(paris)
    assert (fire.date(), fire.hour, fire.minute) == (dt.date(2026, 12, 4), 7, 30)


def test_two_compiles_racing_for_one_week_make_one_digest(rt: Runtime) -> None:
    # Given a published comparison, and a first compile that has written its digest but not committed
    with rt.sessions() as session, session.begin():
        factories.published_comparison(session)
    results: dict[str, int] = {}

    def second_compile() -> None:
        with rt.sessions() as session, session.begin():
            results["second"] = compose.compile_week(session, rt.settings, WEEK).id

    with rt.sessions() as first, first.begin():
        first_id = compose.compile_week(first, rt.settings, WEEK).id
        # When a second compile of the same week starts meanwhile, and waits on the first's unique key
        racer = threading.Thread(target=second_compile)
        racer.start()
        _wait_until_a_lock_is_awaited(rt)
    racer.join(timeout=30)
    # Then, the first committed, the second finds and returns the first's digest; there is one
    assert results["second"] == first_id
    with rt.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Digest)) == 1
        assert set(session.scalars(select(Comparison.mailed_in_digest_id))) == {first_id}


WAITING_FOR_A_LOCK = text("SELECT count(*) FROM pg_stat_activity "
                          "WHERE datname = current_database() AND wait_event_type = 'Lock'")


def _wait_until_a_lock_is_awaited(rt: Runtime) -> None:
    """Return once some PostgreSQL backend waits for a lock (the racer blocked on the unique index)."""
    deadline = time.monotonic() + 20
    with rt.engine.connect() as connection:
        while connection.execute(WAITING_FOR_A_LOCK).scalar() == 0:
            assert time.monotonic() < deadline, "the second compile never waited for the first"
            time.sleep(0.02)
            connection.rollback()
