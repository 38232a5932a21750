"""Benchmark of the event spine: events recorded in PostgreSQL, relayed through Redis, handled by
a real dramatiq worker. Prints a table and writes bench/results/outbox.json.

    python bench/outbox.py [--events N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import uuid
from pathlib import Path

from dramatiq import Worker
from sqlalchemy import func, select

from services.core import broker, events, runtime
from services.core.db.migrate import upgrade
from services.core.db.models import AuditEntry, Event
from services.core.db.scratch import create_database, drop_database
from services.core.settings import load_settings
from services.workers import boot

ADMIN_URL = os.environ.get("VERDICTS_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("VERDICTS_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
RESULTS = Path(__file__).with_name("results")


@events.handles("bench.noted")
def _note(session, payload) -> None:  # noqa: ANN001 - handler signature
    session.add(AuditEntry(action="bench", subject=str(payload["n"])))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    args = parser.parse_args()
    name = f"verdicts_bench_{uuid.uuid4().hex[:8]}"
    database_url = create_database(ADMIN_URL, name)
    namespace = f"verdicts-bench-{uuid.uuid4().hex[:8]}"
    try:
        settings = load_settings({}, database_url=database_url,
                                 redis_url=REDIS_URL, redis_namespace=namespace, secret_key="bench")
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

    started = time.perf_counter()
    batch = 500
    for offset in range(0, count, batch):
        with rt.sessions() as session, session.begin():
            for n in range(offset, min(count, offset + batch)):
                events.record(session, "bench.noted", n=n)
    recorded = time.perf_counter()
    relay_times = []
    while True:
        tick = time.perf_counter()
        if events.relay(rt.sessions, outbox_actors.publish) == 0:
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
        effects = session.scalar(select(func.count()).select_from(AuditEntry))
    assert effects == count, f"{effects} effects for {count} events"
    return {
        "events": count,
        "record_per_second": round(count / (recorded - started)),
        "relay_per_second": round(count / (relayed - recorded)),
        "relay_batch_ms_median": round(statistics.median(relay_times) * 1000, 1),
        "handle_per_second": round(count / (handled - relayed)),
        "end_to_end_per_second": round(count / (handled - recorded)),
        "effects_exactly_once": int(effects == count),
    }


if __name__ == "__main__":
    main()
