"""Never twice, never silently lost: a real worker process SIGKILLed in the middle of a send.

A digest for 20,000 readers (20 batches) is sent by a `dramatiq` worker process over Redis and
PostgreSQL to our recording endpoint, which answers slowly so requests are in flight when the
worker is killed. It is killed three times at different points and restarted. The broker is
built as production builds it (dramatiq's chance-driven maintenance, no more); the scheduler's
requeue tick, run here every ``TICK_SECONDS``, hands the killed worker's messages back once its
heartbeat is stale (a 3 s heartbeat timeout here, set through VERDICTS_BROKER_HEARTBEAT_TIMEOUT_MS):
after each kill they must be back within that timeout plus one tick. Counting at the receiving
end: nobody got the digest twice, and everybody got it once or is in a batch marked ambiguous.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable

import dramatiq
from sqlalchemy import select

from services.core.broker import build_broker
from services.core.broker_requeue import requeue_from_dead_workers
from services.core.db.models import DeliveryBatch, Digest, Subscriber
from services.core.runtime import Runtime
from services.delivery.send import start_send
from services.digest import compose
from services.ops import redis_layout
from tests import factories
from tests.cli import cli_env
from tests.conftest import REDIS_NAMESPACE
from tests.sendgrid_endpoint import RecordingEndpoint, recording_endpoint
from tests.services_check import REDIS_URL

READERS = 20_000
HEARTBEAT_MS = 3_000
NAMESPACE = f"{REDIS_NAMESPACE}-crash"
KILL_AFTER_REQUESTS = (2, 8, 14)
TIMEOUT_SECONDS = 240
#: The scheduler's requeue tick, as often as the outbox relay ticks by default.
TICK_SECONDS = 2.0
#: Redis round trips, the killed processes' teardown and a busy machine, on top of the promised bound: one more tick.
SLACK_SECONDS = TICK_SECONDS
REQUEUE_BOUND_SECONDS = HEARTBEAT_MS / 1000 + TICK_SECONDS


def _worker(rt: Runtime, host: str) -> subprocess.Popen[bytes]:
    env = cli_env(rt, VERDICTS_REDIS_URL=REDIS_URL, VERDICTS_REDIS_NAMESPACE=NAMESPACE,
                  VERDICTS_BROKER_HEARTBEAT_TIMEOUT_MS=str(HEARTBEAT_MS), VERDICTS_SENDGRID_API_KEY="SG.crash-test",
                  VERDICTS_SENDGRID_HOST=host)
    return subprocess.Popen([sys.executable, "-m", "dramatiq", "services.workers:boot_from_environment",
                             "--processes", "1", "--threads", "4", "--queues", "mail", "events"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def _kill(worker: subprocess.Popen[bytes]) -> None:
    os.killpg(worker.pid, signal.SIGKILL)  # the dramatiq master and its worker process, no goodbye
    worker.wait(timeout=30)


def _wait_until(condition: Callable[[], bool], what: str, tick: Callable[[], None] = lambda: None,
                within: float = TIMEOUT_SECONDS) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {within:.1f} s")
        tick()
        time.sleep(0.02)


class SchedulerTicks:
    """The scheduler's requeue tick, run every ``TICK_SECONDS`` by whoever polls."""

    def __init__(self, broker: dramatiq.Broker) -> None:
        self.broker = broker
        self.last = time.monotonic()
        requeue_from_dead_workers(broker)

    def __call__(self) -> None:
        if time.monotonic() - self.last >= TICK_SECONDS:
            self.last = time.monotonic()
            requeue_from_dead_workers(self.broker)


def test_a_worker_killed_mid_send_never_mails_anyone_twice_nor_drops_anyone(rt: Runtime, redis_required: None) -> None:
    # Given a digest for 20,000 confirmed readers, cut into 20 batches whose messages wait in Redis
    with rt.sessions() as session, session.begin():
        factories.published_comparison(session)
        factories.confirmed_subscribers(session, READERS)
        digest = compose.compile_week(session, rt.settings, "2026-W48")
        compose.approve(session, digest.id)
        batch_ids = start_send(session, digest.id)
        digest_id = digest.id
    # The test's handle on the namespace is built as production builds its broker: maintenance by chance only.
    broker = build_broker(rt.settings.model_copy(update={"redis_url": REDIS_URL, "redis_namespace": NAMESPACE,
                                                         "broker_heartbeat_timeout_ms": HEARTBEAT_MS}))
    for queue in ("mail", "events"):
        broker.declare_queue(queue)
    for batch_id in batch_ids:
        broker.enqueue(dramatiq.Message(queue_name="mail", actor_name="send_batch", args=(batch_id,), kwargs={},
                                        options={}))

    def unacked() -> list[str]:
        return list(broker.client.scan_iter(match=redis_layout.acks_pattern(NAMESPACE)))

    with recording_endpoint() as endpoint:
        endpoint.delay = 0.6  # each answer takes a while: requests are in flight when the kill comes
        # When a worker is SIGKILLed after the endpoint has taken 2, 8 and 14 requests, and restarted each time
        tick = SchedulerTicks(broker)
        for kill_after in KILL_AFTER_REQUESTS:
            worker = _worker(rt, endpoint.host)
            _wait_until(lambda n=kill_after: endpoint.requests >= n, f"{kill_after} requests", tick)
            _kill(worker)
            killed = time.monotonic()
            # Then its unacked messages are back in their queues within the heartbeat timeout plus one tick
            _wait_until(lambda: not unacked(), "the killed worker's messages coming back", tick)
            back = time.monotonic() - killed
            assert back <= REQUEUE_BOUND_SECONDS + SLACK_SECONDS, (
                f"the killed worker's messages came back {back:.1f} s after the kill, over the promised "
                f"{REQUEUE_BOUND_SECONDS:.1f} s plus {SLACK_SECONDS:.1f} s slack")
        worker = _worker(rt, endpoint.host)
        try:
            _wait_until(lambda: _settled(rt, digest_id), "every batch to settle", tick)
        finally:
            _kill(worker)
        broker.close()
        # Then, counting at the receiving end:
        _assert_nobody_twice_and_nobody_lost(rt, endpoint)


def _settled(rt: Runtime, digest_id: int) -> bool:
    with rt.sessions() as session:
        return session.get(Digest, digest_id).state == "sent"


def _assert_nobody_twice_and_nobody_lost(rt: Runtime, endpoint: RecordingEndpoint) -> None:
    with rt.sessions() as session:
        batches = session.execute(select(DeliveryBatch.state, DeliveryBatch.subscriber_ids)).all()
        emails = dict(session.execute(select(Subscriber.id, Subscriber.email)).all())
    states = [state for state, _ids in batches]
    in_ambiguous = {emails[i] for state, ids in batches if state == "ambiguous" for i in ids}
    # nobody twice
    assert max(endpoint.deliveries.values()) == 1
    # everybody once, or in an ambiguous batch for ops to decide
    missing = {address for address in emails.values() if endpoint.deliveries[address] == 0}
    assert missing <= in_ambiguous
    # every batch settled as sent or ambiguous; the kills did land mid-send
    assert set(states) <= {"sent", "ambiguous"} and len(states) == READERS // 1000
    assert states.count("ambiguous") >= len(KILL_AFTER_REQUESTS)
    assert sum(endpoint.deliveries.values()) + len(missing) == READERS
