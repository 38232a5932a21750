"""The event spine: outbox rows ride the caller's transaction; the relay, sweeper and handler
together deliver each event's effect exactly once, even when a broker message is lost."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from dramatiq import Worker
from sqlalchemy import func, select

from services.core import broker, events, outbox_actors
from services.core.db.models import AuditEntry, Event
from services.core.runtime import Runtime

TEST_EVENT = "test.noted"


@events.handles(TEST_EVENT)
def _write_audit_row(session, payload) -> None:  # noqa: ANN001 - handler signature
    # The effect lives in the same transaction as marking the event handled.
    session.add(AuditEntry(action="noted", subject=str(payload["n"])))


def _effects(rt: Runtime) -> int:
    with rt.sessions() as session:
        return session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "noted")) or 0


def test_an_event_recorded_in_a_rolled_back_transaction_is_never_published(rt: Runtime) -> None:
    # Given a change that records an event, then fails
    with pytest.raises(RuntimeError), rt.sessions() as session, session.begin():
        events.record(session, TEST_EVENT, n=1)
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
    with rt.sessions() as session, session.begin():
        event = events.record(session, TEST_EVENT, n=2)
        session.flush()
        event_id = event.id
    # When the relay runs twice
    published: list[int] = []
    events.relay(rt.sessions, published.append)
    events.relay(rt.sessions, published.append)
    # Then it was published once
    assert published == [event_id]


def test_handling_twice_has_the_effect_once(rt: Runtime) -> None:
    # Given a committed event
    with rt.sessions() as session, session.begin():
        event = events.record(session, TEST_EVENT, n=3)
        session.flush()
        event_id = event.id
    # When its message is delivered twice
    first = events.handle(rt.sessions, event_id)
    second = events.handle(rt.sessions, event_id)
    # Then the handler's effect happened once
    assert (first, second) == (True, False)
    assert _effects(rt) == 1


def test_a_failing_handler_leaves_the_event_unhandled_with_its_error(rt: Runtime) -> None:
    @events.handles("test.broken")
    def _broken(session, payload) -> None:  # noqa: ANN001
        raise ValueError("handler bug")

    with rt.sessions() as session, session.begin():
        event = events.record(session, "test.broken")
        session.flush()
        event_id = event.id
    with pytest.raises(ValueError):
        events.handle(rt.sessions, event_id)
    with rt.sessions() as session:
        stored = session.get(Event, event_id)
        assert stored is not None and stored.handled_at is None
        assert stored.last_error == "ValueError: handler bug"


@pytest.fixture
def redis_worker(redis_required: None, rt: Runtime) -> Iterator[Worker]:
    worker = Worker(broker.current(), queues={"events"}, worker_threads=2, worker_timeout=100)
    worker.start()
    yield worker
    worker.stop()


def _wait_for(condition, seconds: float = 20.0) -> bool:  # noqa: ANN001
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_a_lost_message_is_published_again_by_the_sweeper_and_handled_once(rt: Runtime, redis_worker: Worker) -> None:
    # Given a committed event whose message reached Redis, and then Redis lost it (flushed)
    with rt.sessions() as session, session.begin():
        event = events.record(session, TEST_EVENT, n=4)
        session.flush()
        event_id = event.id
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
    with rt.sessions() as session, session.begin():
        events.record(session, TEST_EVENT, n=5)
    published: list[int] = []
    events.relay(rt.sessions, published.append)
    assert events.sweep(rt.sessions, published.append, grace_seconds=300) == 0
    assert len(published) == 1
