"""Actors the ops tests send to: declared per test queue, the same way in the test process and in a worker subprocess.

- ``fail(token, n, password=…)`` raises unless the queue's "fixed" flag is set in Redis (max_retries=0,
  so one failure dead-letters it at once);
- ``nap(seconds)`` sleeps, holding a worker thread (a message in flight);
- ``succeed(n)`` does nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import dramatiq
import redis


@dataclass(frozen=True)
class Probe:
    queue: str
    fail: dramatiq.Actor
    nap: dramatiq.Actor
    succeed: dramatiq.Actor


def fixed_flag(namespace: str, queue: str) -> str:
    return f"{namespace}:probe-fixed:{queue}"


def declare(broker: dramatiq.Broker, queue: str, redis_url: str, namespace: str) -> Probe:
    client = redis.Redis.from_url(redis_url)

    def fail(token: str, n: int, password: str = "") -> None:
        if client.exists(fixed_flag(namespace, queue)):
            return
        raise ValueError(f"probe failure {n}: upstream refused token={token}")

    def nap(seconds: float) -> None:
        time.sleep(seconds)

    def succeed(n: int) -> None:
        return None

    def declared(fn, kind: str) -> dramatiq.Actor:
        return dramatiq.actor(fn, actor_name=f"{kind}_{queue}", queue_name=queue, broker=broker, max_retries=0)

    return Probe(queue, declared(fail, "fail"), declared(nap, "nap"), declared(succeed, "succeed"))
