"""The event spine: outbox rows ride the caller's transaction; the relay, sweeper and handler
together deliver each event's effect exactly once, even when a broker message is lost; only the
types the catalogue lists can be recorded, and those nothing handles are never published."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from types import MappingProxyType

import pytest
from dramatiq import Worker
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from services.core import broker, event_types, events, outbox_actors
from services.core.db.base import utcnow
from services.core.db.models import AuditEntry, Event
from services.core.event_types import EventName, EventType, PayloadMismatch, UnknownEventType
from services.core.runtime import Runtime

NOTED, BROKEN = "test.noted", "test.broken"
RECORD_ONLY = EventName.TOOL_REJECTED  # a real type nothing handles


def _write_audit_row(session: Session, payload: events.Payload) -> None:
    # The effect lives in the same transaction as marking the event handled.
    session.add(AuditEntry(action="noted", subject=str(payload["n"])))


@pytest.fixture(autouse=True)
def _test_types(monkeypatch: pytest.MonkeyPatch) -> None:
    """The catalogue plus this module's two handled test types, and a handler registry (with
    ``_write_audit_row`` for ``test.noted``) that forgets what a test registered once it ends."""
    monkeypatch.setattr(event_types, "CATALOGUE", MappingProxyType({
        **event_types.CATALOGUE,
        NOTED: EventType(NOTED, {"n": int}, __name__, "A test event whose handler writes an audit row."),
        BROKEN: EventType(BROKEN, {}, __name__, "A test event whose handler fails."),
    }))
    monkeypatch.setattr(events, "_handlers", {kind: list(found) for kind, found in events.registered().items()})
    events.handles(NOTED)(_write_audit_row)


def _effects(rt: Runtime) -> int:
    with rt.sessions() as session:
        return session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "noted")) or 0


def _record(rt: Runtime, event_type: str, **payload: object) -> int:
    with rt.sessions() as session, session.begin():
        event = events.record(session, event_type, **payload)
        session.flush()
        return event.id


def test_an_event_recorded_in_a_rolled_back_transaction_is_never_published(rt: Runtime) -> None:
    # Given a change that records an event, then fails
    with pytest.raises(RuntimeError), rt.sessions() as session, session.begin():
        events.record(session, NOTED, n=1)
        raise RuntimeError("the change failed")
    # When the relay and the sweeper run
    published: list[int] = []
    events.relay(rt.sessions, published.append)
    events.sweep(rt.sessions, published.append, grace_seconds=0)
    # Then nothing was published and no row exists
    assert published == []
    with rt.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Event)) == 0


def test_the_relay_publishes_a_committed_event_once(rt: Runtime) -> None:
    # Given a committed event
    event_id = _record(rt, NOTED, n=2)
    # When the relay runs twice
    published: list[int] = []
    events.relay(rt.sessions, published.append)
    events.relay(rt.sessions, published.append)
    # Then it was published once
    assert published == [event_id]


def test_handling_twice_has_the_effect_once(rt: Runtime) -> None:
    # Given a committed event
    event_id = _record(rt, NOTED, n=3)
    # When its message is delivered twice
    first = events.handle(rt.sessions, event_id)
    second = events.handle(rt.sessions, event_id)
    # Then the handler's effect happened once
    assert (first, second) == (True, False)
    assert _effects(rt) == 1


def test_a_failing_handler_leaves_the_event_unhandled_with_its_error(rt: Runtime) -> None:
    @events.handles(BROKEN)
    def _broken(session: Session, payload: events.Payload) -> None:
        raise ValueError("handler bug")

    event_id = _record(rt, BROKEN)
    with pytest.raises(ValueError):
        events.handle(rt.sessions, event_id)
    with rt.sessions() as session:
        stored = session.get(Event, event_id)
        assert stored is not None and stored.handled_at is None
        assert stored.last_error == "ValueError: handler bug"


def test_an_event_whose_handler_module_was_not_imported_stays_unhandled_with_the_module_named(
        rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an event of a handled type, in a process where no handler for it was registered
    event_id = _record(rt, NOTED, n=6)
    monkeypatch.setattr(events, "_handlers", {})
    # When its message is handled
    with pytest.raises(events.MissingHandler):
        events.handle(rt.sessions, event_id)
    # Then it is not marked handled (the sweeper publishes it again), and the error names the module
    with rt.sessions() as session:
        stored = session.get(Event, event_id)
        assert stored is not None and stored.handled_at is None
        assert stored.last_error is not None and __name__ in stored.last_error


def test_an_event_of_a_type_nothing_handles_is_written_handled_and_never_published(rt: Runtime) -> None:
    # Given a committed event of a type the catalogue says nothing handles, and one that is handled
    record_only_id = _record(rt, RECORD_ONLY, tool_id=1)
    handled_id = _record(rt, NOTED, n=7)
    # When the relay and then the sweeper run
    published: list[int] = []
    events.relay(rt.sessions, published.append)
    events.sweep(rt.sessions, published.append, grace_seconds=0)
    # Then only the handled type was published (the sweeper republished it: it is still unhandled)
    assert published == [handled_id, handled_id]
    # And the other was handled from the start, never published
    with rt.sessions() as session:
        stored = session.get(Event, record_only_id)
        assert stored is not None and stored.handled_at is not None
        assert (stored.published_at, stored.publish_count) == (None, 0)


def test_bulk_inserted_events_of_a_type_nothing_handles_are_written_handled(rt: Runtime) -> None:
    # Given event rows of a type nothing handles, inserted in one statement (as ingest writes them)
    with rt.sessions() as session, session.begin():
        session.execute(insert(Event), [events.row(EventName.ENTRY_INGESTED, entry_id=n, source_id=1)
                                        for n in range(3)])
    # When the sweeper runs
    published: list[int] = []
    events.sweep(rt.sessions, published.append, grace_seconds=0)
    # Then every row is handled and none was published
    assert published == []
    with rt.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Event).where(Event.handled_at.is_(None))) == 0


def test_events_nothing_handles_do_not_show_as_outbox_lag(rt: Runtime) -> None:
    # Given an event nothing handles and a handled one, both recorded an hour ago
    an_hour_ago = utcnow() - dt.timedelta(hours=1)
    with rt.sessions() as session, session.begin():
        session.add_all([Event(**events.row(RECORD_ONLY, tool_id=1), created_at=an_hour_ago),
                         Event(**events.row(NOTED, n=8), created_at=an_hour_ago)])
    # When the relay runs (and the handled one's message is not handled yet)
    events.relay(rt.sessions, lambda event_id: None)
    # Then only the handled one is listed as waiting past the grace period
    with rt.sessions() as session:
        assert [event.type for event in events.waiting_longer_than(session, 300)] == [NOTED]


def test_recording_an_unknown_type_fails_and_writes_nothing(rt: Runtime) -> None:
    # Given a type the catalogue does not list; When it is recorded; Then it is refused by name
    with rt.sessions() as session, session.begin():
        with pytest.raises(UnknownEventType, match="test.not_listed"):
            events.record(session, "test.not_listed", n=1)
        assert not session.new


@pytest.mark.parametrize("payload, named", [({}, "missing \\['n'\\]"), ({"n": 1, "m": 2}, "unexpected \\['m'\\]"),
                                            ({"m": 2}, "missing \\['n'\\], unexpected \\['m'\\]")])
def test_recording_a_payload_with_other_keys_than_listed_fails_naming_them(
        rt: Runtime, payload: dict[str, object], named: str) -> None:
    with rt.sessions() as session, session.begin():
        with pytest.raises(PayloadMismatch, match=named):
            events.record(session, NOTED, **payload)
        assert not session.new


def test_a_handler_for_an_unknown_type_is_refused_at_registration() -> None:
    with pytest.raises(UnknownEventType, match="test.not_listed"):
        events.handles("test.not_listed")


def test_a_handler_for_a_type_nothing_handles_is_refused_at_registration() -> None:
    with pytest.raises(events.HandlerNotExpected, match="handled by nothing"):
        events.handles(RECORD_ONLY)(_write_audit_row)
    assert events.handlers_for(RECORD_ONLY) == ()


def test_a_handler_from_another_module_than_the_catalogue_names_is_refused_at_registration() -> None:
    # Given a type the catalogue says services.ops.alerts handles; When this module registers one
    with pytest.raises(events.HandlerNotExpected, match="services.ops.alerts"):
        events.handles(EventName.SOURCE_PAUSED)(_write_audit_row)
    # Then it is not registered
    assert _write_audit_row not in events.handlers_for(EventName.SOURCE_PAUSED)


@pytest.fixture
def redis_worker(redis_required: None, rt: Runtime) -> Iterator[Worker]:
    worker = Worker(broker.current(), queues={"events"}, worker_threads=2, worker_timeout=100)
    worker.start()
    yield worker
    worker.stop()


def _wait_for(condition: Callable[[], bool], seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_a_lost_message_is_published_again_by_the_sweeper_and_handled_once(rt: Runtime, redis_worker: Worker) -> None:
    # Given a committed event whose message reached Redis, and then Redis lost it (flushed)
    event_id = _record(rt, NOTED, n=4)
    redis_worker.pause()
    assert events.relay(rt.sessions, outbox_actors.publish) == 1
    broker.current().flush_all()
    redis_worker.resume()
    time.sleep(0.5)
    with rt.sessions() as session:
        assert session.get(Event, event_id).handled_at is None  # type: ignore[union-attr]
    # When the sweeper runs after the grace period (twice, as two schedulers might)
    assert events.sweep(rt.sessions, outbox_actors.publish, grace_seconds=0) == 1
    events.sweep(rt.sessions, outbox_actors.publish, grace_seconds=0)
    # Then a real worker handles it, and its effect happened exactly once
    assert _wait_for(lambda: _handled(rt, event_id))
    broker.current().join("events", timeout=20_000)
    assert _effects(rt) == 1


def _handled(rt: Runtime, event_id: int) -> bool:
    with rt.sessions() as session:
        event = session.get(Event, event_id)
        return event is not None and event.handled_at is not None


def test_the_sweeper_leaves_recent_unhandled_events_alone(rt: Runtime) -> None:
    _record(rt, NOTED, n=5)
    published: list[int] = []
    events.relay(rt.sessions, published.append)
    assert events.sweep(rt.sessions, published.append, grace_seconds=300) == 0
    assert len(published) == 1
