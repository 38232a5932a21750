"""The module a real `dramatiq` worker subprocess loads in the ops tests (``python -m dramatiq tests.ops.probe_worker``).

It builds the project's broker (with the project's middleware stack) in the test run's Redis
namespace and declares the probe actors of the queues named in ``PROBE_QUEUES``.
"""

from __future__ import annotations

import os

import dramatiq

from services.core.broker import build_broker
from services.core.settings import load_settings
from tests.ops.probe_actors import declare

settings = load_settings(
    {},
    redis_url=os.environ["PROBE_REDIS_URL"],
    redis_namespace=os.environ["PROBE_NAMESPACE"],
    secret_key="probe-worker-secret-key",
    database_url="sqlite:///:memory:",
    worker_metrics=os.environ.get("PROBE_METRICS") == "1",
)
broker = build_broker(settings)
dramatiq.set_broker(broker)
for queue in os.environ["PROBE_QUEUES"].split(","):
    declare(broker, queue, os.environ["PROBE_REDIS_URL"], os.environ["PROBE_NAMESPACE"])
