"""A digest's engagement report, from a known set of webhook events: the figures, the hours, the links, the
votes; and `verdicts digest report` printing them."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select, update

from services.core.db.models import DeliveryBatch, Digest, Vote
from services.core.domain import BatchState, Call
from services.core.runtime import Runtime
from services.delivery import webhook_events
from services.delivery.engagement_report import OPENS_MISLEAD, report
from services.delivery.send import start_send
from services.digest import compose
from tests import factories
from tests.cli import run_cli
from tests.delivery.webhook_worker import process_stored_batches

WEEK = "2026-W48"
STARTED = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone.utc)
COMPARISON_URL = "https://verdicts.example.org/c/alpha-vs-beta"


def _at(hours: float) -> int:
    return int((STARTED + dt.timedelta(hours=hours)).timestamp())


def _sent_digest(rt: Runtime) -> tuple[int, dict[str, int], list[int]]:
    """A digest sent to three readers (its batches sent, started at STARTED): its id, the readers' ids by
    name, the ids of the two tools it put to the vote."""
    with rt.sessions() as session, session.begin():
        comparison = factories.published_comparison(session)
        readers = {name: factories.confirmed_subscriber(session, f"{name}@example.org").id for name in "abc"}
        digest = compose.compile_week(session, rt.settings, WEEK)
        compose.approve(session, digest.id)
        start_send(session, digest.id)
        session.execute(update(DeliveryBatch).where(DeliveryBatch.digest_id == digest.id)
                        .values(state=BatchState.SENT, started_at=STARTED))
        return digest.id, readers, [comparison.tool_a_id, comparison.tool_b_id]


def _post(rt: Runtime, events: list[dict[str, object]]) -> None:
    with rt.sessions() as session, session.begin():
        webhook_events.store(session, json.dumps(events), len(events))


def _known_events(rt: Runtime) -> tuple[int, list[int]]:
    digest_id, readers, tools = _sent_digest(rt)
    serial = iter(range(1000))

    def event(reader: str, kind: str, hours: float, **extra: object) -> dict[str, object]:
        return {"email": f"{reader}@example.org", "event": kind, "timestamp": _at(hours),
                "sg_event_id": f"ev-{next(serial)}", "digest_id": str(digest_id),
                "subscriber_id": str(readers[reader]), **extra}

    a_delivered = event("a", "delivered", 1.2)
    _post(rt, [a_delivered, event("a", "open", 2.1), event("a", "click", 2.5, url=COMPARISON_URL),
               event("a", "click", 3.0, url=COMPARISON_URL + "#vote"),
               event("a", "click", 3.1, url="https://verdicts.example.org/unsubscribe/tok.en-a"),
               event("a", "unsubscribe", 3.2),
               event("b", "deferred", 0.1), event("b", "delivered", 1.5),
               event("b", "click", 5.0, url=COMPARISON_URL), event("b", "spamreport", 6.0),
               event("c", "bounce", 0.2, type="bounce"), event("c", "dropped", 1.0, reason="Bounced Address")])
    _post(rt, [a_delivered, event("b", "click", 100.0, url=COMPARISON_URL)])  # a repeat, and a click past 72 h
    process_stored_batches(rt)
    with rt.sessions() as session, session.begin():
        session.add_all([Vote(subscriber_id=readers["a"], tool_id=tools[0], call=Call.SHIP,
                              created_at=STARTED + dt.timedelta(hours=2), updated_at=STARTED + dt.timedelta(hours=2)),
                         Vote(subscriber_id=readers["b"], tool_id=tools[0], call=Call.SKIP,
                              created_at=STARTED + dt.timedelta(hours=4), updated_at=STARTED + dt.timedelta(hours=4)),
                         Vote(subscriber_id=readers["c"], tool_id=tools[1], call=Call.SHIP,
                              created_at=STARTED - dt.timedelta(days=3), updated_at=STARTED - dt.timedelta(days=3))])
    return digest_id, tools


def test_the_report_adds_up_a_known_set_of_events(any_runtime: Runtime) -> None:
    # Given (on PostgreSQL and on SQLite) a digest sent to three readers and the events SendGrid reported about
    # them (one twice)
    rt = any_runtime
    digest_id, tools = _known_events(rt)
    # When the report is read with open tracking off (the default)
    with rt.sessions() as session:
        figures = report(session, digest_id, open_tracking=False)
    # Then every figure is what the events say, each event once, and opens are left out
    assert figures.recipients == 3
    assert figures.counts == {"delivered": 2, "deferred": 1, "bounce_hard": 1, "bounce_soft": 0, "dropped": 1,
                              "spamreport": 1, "unsubscribe": 1, "click": 5}
    assert (figures.bounced, figures.unique_clickers, figures.unique_openers) == (1, 2, None)
    assert [(link.url, link.clicks) for link in figures.links] == [
        (COMPARISON_URL, 4), ("https://verdicts.example.org/unsubscribe/…", 1)]
    # And the votes are those cast since the send started, per tool of the digest
    assert [(tool.tool_id, tool.ship, tool.skip) for tool in figures.votes] == [(tools[0], 1, 1), (tools[1], 0, 0)]
    # And the hours count from the send's start, the click past 72 hours outside them
    assert figures.started_at == STARTED
    assert len(figures.hourly["click"]) == 72 and sum(figures.hourly["click"]) == 4
    assert (figures.hourly["delivered"][1], figures.hourly["click"][2], figures.hourly["click"][3]) == (2, 1, 2)
    assert figures.as_json()["opens_note"] == OPENS_MISLEAD


def test_opens_are_reported_only_when_open_tracking_is_on(rt: Runtime) -> None:
    digest_id, _tools = _known_events(rt)
    with rt.sessions() as session:
        figures = report(session, digest_id, open_tracking=True)
    assert (figures.counts["open"], figures.unique_openers, figures.as_json()["opens_note"]) == (1, 1, None)


def test_the_command_prints_the_report_and_its_json(rt: Runtime) -> None:
    # Given the known events of a sent digest
    _known_events(rt)
    # When an editor asks for the report on the command line, as text and as JSON
    text = run_cli(rt, "digest", "report", "--week", WEEK)
    as_json = run_cli(rt, "digest", "report", "--week", WEEK, "--json")
    # Then the text names each figure and why opens are missing, and the JSON carries the same figures
    assert text.returncode == 0, text.stderr
    for line in ("recipients        3", "delivered         2", "bounced           1 (1 hard, 0 soft)",
                 "spam reports      1", "unique clickers   2", f"       4  {COMPARISON_URL}", "Alpha: 1 / 1"):
        assert line in text.stdout
    assert "Opens are off" in text.stdout
    document = json.loads(as_json.stdout)
    assert (document["week"], document["counts"]["click"], document["unique_clickers"]) == (WEEK, 5, 2)
    assert document["links"][0] == {"url": COMPARISON_URL, "clicks": 4}


def test_the_command_refuses_a_week_without_a_digest(rt: Runtime) -> None:
    done = run_cli(rt, "digest", "report", "--week", "2020-W01")
    assert done.returncode == 1 and "No digest for 2020-W01" in done.stderr
    with rt.sessions() as session:
        assert session.scalar(select(Digest.id)) is None
