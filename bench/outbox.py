"""Benchmark of the event spine: events recorded in PostgreSQL, relayed through Redis, handled by
a real dramatiq worker. Prints a table and writes bench/results/outbox.json.

Half the events are of a handled type (``source.paused``: the alert handler opens one incident per
paused source), half of a type nothing handles (``entry.ingested``, the bulk of real traffic),
which is written handled and never published. The check: one incident per handled event, and
not one message for the others.

    python bench/outbox.py [--events N]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import time
import uuid
from pathlib import Path

from dramatiq import Worker
from sqlalchemy import func, insert, select

from services.core import broker, events, runtime
from services.core.db.migrate import upgrade
from services.core.db.models import AlertIncident, Event, Source
from services.core.db.scratch import create_database, drop_database
from services.core.event_types import EventName
from services.core.settings import load_settings
from services.workers import boot

ADMIN_URL = os.environ.get("VERDICTS_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("VERDICTS_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
RESULTS = Path(__file__).with_name("results")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000, help="events of each kind (handled, record-only)")
    args = parser.parse_args()
    name = f"verdicts_bench_{uuid.uuid4().hex[:8]}"
    database_url = create_database(ADMIN_URL, name)
    namespace = f"verdicts-bench-{uuid.uuid4().hex[:8]}"
    try:
        settings = load_settings({}, database_url=database_url,
                                 redis_url=REDIS_URL, redis_namespace=namespace, secret_key="bench",
                                 alert_webhook_url=None)
        logging.getLogger("services.ops.alerts").setLevel(logging.ERROR)  # one warning per incident otherwise
        rt = boot(settings)
        upgrade(rt.engine)
        figures = run(rt, args.events)
    finally:
        broker.current().flush_all()
        runtime.current().engine.dispose()
        drop_database(ADMIN_URL, name)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "outbox.json").write_text(json.dumps(figures, indent=2) + "\n")
    width = max(map(len, figures))
    print(f"{'figure':<{width}}  value")
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
    print(f"wrote {RESULTS / 'outbox.json'}")


def run(rt: runtime.Runtime, count: int) -> dict[str, float | int]:
    from services.core import outbox_actors  # declared on the broker boot() set up

    with rt.sessions() as session, session.begin():
        source_ids = list(session.scalars(insert(Source).returning(Source.id), [
            {"url": f"https://bench.example.org/{n}.xml", "state": "paused"} for n in range(count)]))
    started = time.perf_counter()
    batch = 500
    for offset in range(0, count, batch):
        with rt.sessions() as session, session.begin():
            for n, source_id in enumerate(source_ids[offset:offset + batch], start=offset):
                events.record(session, EventName.SOURCE_PAUSED, source_id=source_id, reason="bench")
                events.record(session, EventName.ENTRY_INGESTED, entry_id=n, source_id=source_id)
    recorded = time.perf_counter()
    published: list[int] = []

    def publish(event_id: int) -> None:
        outbox_actors.publish(event_id)
        published.append(event_id)

    relay_times = []
    while True:
        tick = time.perf_counter()
        if events.relay(rt.sessions, publish) == 0:
            break
        relay_times.append(time.perf_counter() - tick)
    relayed = time.perf_counter()
    worker = Worker(broker.current(), queues={"events"}, worker_threads=8)
    worker.start()
    while True:
        with rt.sessions() as session:
            waiting = session.scalar(select(func.count()).select_from(Event).where(Event.handled_at.is_(None)))
        if waiting == 0:
            break
        time.sleep(0.05)
    handled = time.perf_counter()
    worker.stop()
    with rt.sessions() as session:
        effects = session.scalar(select(func.count()).select_from(AlertIncident))
        record_only_published = session.scalar(select(func.count()).select_from(Event).where(
            Event.type == EventName.ENTRY_INGESTED, Event.publish_count > 0))
    assert effects == count, f"{effects} effects for {count} handled events"
    assert len(published) == count and record_only_published == 0, "an event nothing handles was published"
    return {
        "events": 2 * count,
        "handled_events": count,
        "record_only_events": count,
        "messages_published": len(published),
        "record_per_second": round(2 * count / (recorded - started)),
        "relay_per_second": round(2 * count / (relayed - recorded)),
        "relay_batch_ms_median": round(statistics.median(relay_times) * 1000, 1),
        "handle_per_second": round(count / (handled - relayed)),
        "end_to_end_per_second": round(2 * count / (handled - recorded)),
        "effects_exactly_once": int(effects == count),
    }

if __name__ == "__main__":
    main()
