"""The worker's side: the scheduler's tick hands due deliveries to a real dramatiq worker over Redis."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from dramatiq import Worker
from sqlalchemy import select
from standardwebhooks import Webhook

from services.core import broker
from services.core.db.models import HookDelivery
from services.core.domain import HookDeliveryState
from services.core.runtime import Runtime
from services.hooks import actors, endpoints
from services.review import queue
from tests import factories
from tests.event_driver import handle_recorded_events
from tests.hooks.conftest import Receiver


@pytest.fixture
def webhook_worker(redis_required: None, rt: Runtime) -> Iterator[Worker]:
    worker = Worker(broker.current(), queues={"webhooks"}, worker_threads=2, worker_timeout=100)
    worker.start()
    yield worker
    worker.stop()


def test_the_tick_hands_a_due_delivery_to_the_worker_which_posts_it(rt: Runtime, receiver: Receiver,
                                                                     webhook_worker: Worker) -> None:
    # Given an endpoint told of approvals and an approval whose event the events worker handled
    with rt.sessions() as session, session.begin():
        secret = endpoints.register(session, receiver.listen("/in"), "", ["tool.approved"],
                                    allow_private_networks=True, user_id=None).secret
        queue.approve(session, factories.candidate(session, "Widget").id, None)
    handle_recorded_events(rt)
    # When the scheduler's tick runs (twice, as two schedulers might)
    assert actors.dispatch_due() == 1
    assert actors.dispatch_due() == 0
    # Then the worker posts it once and the delivery succeeds
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not receiver.at("/in"):
        time.sleep(0.05)
    webhook_worker.join()
    [post] = receiver.at("/in")
    assert Webhook(secret).verify(post.body, post.headers)["type"] == "tool.approved"
    with rt.sessions() as session:
        assert session.scalars(select(HookDelivery.state)).all() == [HookDeliveryState.SUCCEEDED]
