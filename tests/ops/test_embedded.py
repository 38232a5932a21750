"""Embedded mode: the same figures, dead letters and actions read from the StubBroker's memory."""

from __future__ import annotations

import pytest
from dramatiq import Worker
from dramatiq.brokers.stub import StubBroker

from services.core.broker import middleware
from services.core.settings import load_settings
from services.ops import dead_letters
from services.ops.overview import queue_rows
from tests.conftest import REDIS_NAMESPACE
from tests.ops.conftest import wait_until
from tests.ops.probe_actors import declare
from tests.services_check import REDIS_URL

pytestmark = [pytest.mark.redis]  # the probe's "fixed" flag lives in Redis; the broker under test does not


def rows(broker: StubBroker) -> dict[str, dict[str, object]]:
    return {row.depth.name: row.as_dict() for row in queue_rows(broker)}


def test_the_stub_brokers_queues_dead_letters_and_actions(redis_required: None) -> None:
    # Given the embedded broker with the project's middleware, and a worker that handled 2 good and 1 bad message
    stub = StubBroker(middleware=middleware(load_settings({}, secret_key="embedded-test-key")))
    probe = declare(stub, "embedded-probe", REDIS_URL, REDIS_NAMESPACE)
    worker = Worker(stub, worker_threads=1, worker_timeout=100)
    worker.start()
    try:
        probe.succeed.send(1)
        probe.succeed.send(2)
        probe.fail.send("tok", 3, password="hunter2hunter2")
        wait_until(lambda: rows(stub)["embedded-probe"]["dead"] == 1 and
                   rows(stub)["embedded-probe"]["processed_last_hour"] == 2, what="the stub worker")
    finally:
        worker.stop()

    # When its figures and dead letters are read
    row = rows(stub)["embedded-probe"]
    [letter] = dead_letters.dead_letters(stub, "embedded-probe")

    # Then they are what happened, with the error, the traceback and the password hidden
    assert {k: row[k] for k in ("ready", "delayed", "in_flight", "dead", "processed_last_hour", "failed_last_hour")} == {
        "ready": 0, "delayed": 0, "in_flight": 0, "dead": 1, "processed_last_hour": 2, "failed_last_hour": 1}
    assert letter.actor == "fail_embedded-probe" and letter.kwargs == {"password": "•••"}
    assert letter.error.startswith("ValueError: probe failure 3") and "Traceback" in letter.traceback

    # When it is retried with no worker running
    assert dead_letters.retry(stub, "embedded-probe", letter.id) is True

    # Then it waits on the queue again, and a second retry of it finds nothing
    assert (rows(stub)["embedded-probe"]["ready"], rows(stub)["embedded-probe"]["dead"]) == (1, 0)
    assert dead_letters.retry(stub, "embedded-probe", letter.id) is False

    # When it fails again and the queue's dead letters are purged
    worker = Worker(stub, worker_threads=1, worker_timeout=100)
    worker.start()
    try:
        wait_until(lambda: rows(stub)["embedded-probe"]["dead"] == 1, what="the retry to fail again")
    finally:
        worker.stop()
    purged = dead_letters.purge(stub, "embedded-probe")

    # Then one was dropped and none is left
    assert purged == 1 and rows(stub)["embedded-probe"]["dead"] == 0
