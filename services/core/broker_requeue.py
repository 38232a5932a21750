"""Giving a dead worker's messages back, every scheduler tick instead of by chance.

dramatiq's Redis broker keeps each message a worker fetched in ``<ns>:__acks__.<worker id>.<queue>``
until it is acked, and each worker's last command time in ``<ns>:__heartbeats__`` (see
``services.ops.redis_layout``). Its dispatch script gives a dead worker's unacked messages back to
their queue only on a command that draws maintenance, a chance of ``maintenance_chance`` in a million
(dramatiq/brokers/redis.py, dispatch.lua), so after a crash they could wait many minutes. Running the
same script with maintenance forced on every queue, once a scheduler tick, bounds the wait: a killed
worker's messages are back within its heartbeat timeout plus one tick.
"""

from __future__ import annotations

from dramatiq import Broker
from dramatiq.brokers.redis import RedisBroker
from dramatiq.common import current_millis

#: How many ids the script unpacks at once when it clears expired dead letters; any size works,
#: dramatiq sizes it from Lua's stack limit, and this stays far below every limit.
UNPACK_CHUNK = 1000


def requeue_from_dead_workers(broker: Broker) -> int:
    """Run the broker's maintenance, forced, on each declared queue and delay queue; returns how many ran.

    A worker is dead when its last heartbeat is older than the broker's ``heartbeat_timeout`` (the
    same setting, ``broker_heartbeat_timeout_ms``, every process uses). Maintenance also drops dead
    letters past their TTL, as dramatiq's own would. Idempotent; a broker other than Redis (the
    embedded StubBroker, whose worker lives and dies with the process) has nothing to give back: 0.
    """
    if not isinstance(broker, RedisBroker):
        return 0
    dispatch = broker.scripts["dispatch"]
    queues = sorted(broker.get_declared_queues() | broker.get_declared_delay_queues())
    for queue in queues:
        # The arguments of RedisBroker._dispatch, with do_maintenance "1"; "qsize" only reads.
        dispatch(keys=[broker.namespace], args=["qsize", current_millis(), queue, broker.broker_id,
                                                broker.heartbeat_timeout, broker.dead_message_ttl, 1,
                                                UNPACK_CHUNK])
    return len(queues)
