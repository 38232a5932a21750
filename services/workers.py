"""Booting a process that runs or sends to actors: broker first, then runtime, then every actor.

The dramatiq CLI loads ``services.workers:boot_from_environment`` (see `verdicts worker`).
"""

from __future__ import annotations

import gc

import dramatiq
from dramatiq import Worker

from services.core import broker, runtime
from services.core.runtime import Runtime
from services.core.settings import Settings, load_settings


def declare_actors() -> None:
    """Import every module that declares actors or event handlers (after the broker is set)."""
    from services.core import outbox_actors  # noqa: F401
    from services.delivery import actors as delivery_actors  # noqa: F401
    from services.digest import actors as digest_actors  # noqa: F401
    from services.hooks import actors as hook_actors  # noqa: F401  (webhook fan-out handlers and deliveries)
    from services.ingest import actors as ingest_actors  # noqa: F401
    from services.ops import alerts  # noqa: F401  (event handlers that send alerts)


def boot(settings: Settings, the_broker: dramatiq.Broker | None = None) -> Runtime:
    broker.setup(the_broker or broker.build_broker(settings))
    rt = runtime.install(Runtime.from_settings(settings))
    declare_actors()
    return rt


def boot_from_environment() -> None:
    from services.core.logging import configure

    configure()  # dramatiq's CLI installed the handlers; this makes their lines JSON unless on a terminal
    boot(load_settings())
    # What is loaded by now (modules, mappers, compiled statements) lives as long as the process:
    # frozen, it is left out of every full collection instead of being walked again each time.
    gc.freeze()


def start_embedded_worker(threads: int = 4) -> Worker:
    """The in-process worker of embedded mode, consuming every queue of the StubBroker."""
    worker = Worker(broker.current(), worker_threads=threads, worker_timeout=100)
    worker.start()
    return worker
