"""A dead worker's unacked messages go back to their queue on the requeue tick, not by chance."""

from __future__ import annotations

import time
from collections.abc import Iterator

import dramatiq
import pytest
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker

from services.core.broker_requeue import requeue_from_dead_workers
from services.ops import redis_layout
from tests.conftest import REDIS_NAMESPACE
from tests.services_check import REDIS_URL

NAMESPACE = f"{REDIS_NAMESPACE}-requeue"
#: Far longer than any pause between writing a live worker's heartbeat and the tick that reads it.
HEARTBEAT_TIMEOUT_MS = 60_000


@pytest.fixture
def broker(redis_required: None) -> Iterator[RedisBroker]:
    """A Redis broker with a 60 s heartbeat timeout and dramatiq's default (chance) maintenance, emptied after."""
    broker = RedisBroker(url=REDIS_URL, namespace=NAMESPACE, heartbeat_timeout=HEARTBEAT_TIMEOUT_MS)
    broker.declare_queue("mail")
    yield broker
    for key in broker.client.scan_iter(match=f"{redis_layout.escape_glob(NAMESPACE)}:*"):
        broker.client.delete(key)
    broker.close()


def test_a_dead_workers_message_is_back_in_its_queue_after_one_tick(broker: RedisBroker) -> None:
    # Given a message a worker fetched and never acked, the worker silent for longer than the heartbeat timeout
    broker.enqueue(dramatiq.Message(queue_name="mail", actor_name="send_batch", args=(1,), kwargs={}, options={}))
    [message_id] = broker.client.lrange(redis_layout.ready(NAMESPACE, "mail"), 0, -1)
    broker.client.delete(redis_layout.ready(NAMESPACE, "mail"))
    broker.client.sadd(f"{NAMESPACE}:{redis_layout.ACKS}.dead-worker.mail", message_id)
    broker.client.zadd(redis_layout.heartbeats(NAMESPACE), {"dead-worker": int(time.time() * 1000) - 2 * HEARTBEAT_TIMEOUT_MS})
    # When the requeue tick runs
    ran = requeue_from_dead_workers(broker)
    # Then the message is ready again, the dead worker's acks are gone, and every queue was maintained
    assert broker.client.lrange(redis_layout.ready(NAMESPACE, "mail"), 0, -1) == [message_id]
    assert list(broker.client.scan_iter(match=redis_layout.acks_pattern(NAMESPACE))) == []
    assert ran == len(broker.get_declared_queues() | broker.get_declared_delay_queues())


def test_a_live_workers_message_stays_with_it(broker: RedisBroker) -> None:
    # Given a message held by a worker whose heartbeat is fresh
    acks = f"{NAMESPACE}:{redis_layout.ACKS}.live-worker.mail"
    broker.client.sadd(acks, "m1")
    broker.client.zadd(redis_layout.heartbeats(NAMESPACE), {"live-worker": int(time.time() * 1000)})
    # When the requeue tick runs, Then the worker keeps it
    requeue_from_dead_workers(broker)
    assert broker.client.smembers(acks) == {b"m1"}


def test_the_embedded_broker_has_nothing_to_give_back() -> None:
    assert requeue_from_dead_workers(StubBroker()) == 0
