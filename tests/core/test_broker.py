"""The broker: Redis with an explicit middleware stack in production, StubBroker when embedded."""

from __future__ import annotations

from pathlib import Path

import pytest
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import AgeLimit, Retries, TimeLimit

from services.core import broker
from tests.conftest import make_settings


def test_embedded_mode_gets_a_stub_broker(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, "sqlite://", redis_url=None)
    assert isinstance(broker.build_broker(settings), StubBroker)


def test_production_gets_redis_with_retries_time_and_age_limits(tmp_path: Path) -> None:
    # Given a Redis URL
    settings = make_settings(tmp_path, "sqlite://", redis_url="redis://127.0.0.1:6379/15")
    # When the broker is built
    built = broker.build_broker(settings)
    # Then it is Redis with the explicit middleware list
    assert isinstance(built, RedisBroker)
    kinds = {type(m) for m in built.middleware}
    assert {Retries, TimeLimit, AgeLimit} <= kinds
    assert "Prometheus" not in {type(m).__name__ for m in built.middleware}


def test_the_worker_cli_adds_prometheus(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, "sqlite://", redis_url="redis://127.0.0.1:6379/15", worker_metrics=True)
    assert "Prometheus" in {type(m).__name__ for m in broker.build_broker(settings).middleware}


def test_an_actor_on_an_unknown_queue_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown queue"):
        broker.actor("nowhere")
