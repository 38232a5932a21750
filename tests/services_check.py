"""Reaching the machine's real PostgreSQL and Redis from tests: skip on a laptop, fail in CI."""

from __future__ import annotations

import os

import pytest

PG_ADMIN_URL = os.environ.get("VERDICTS_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("VERDICTS_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def unavailable(what: str, why: object) -> None:
    """Fail under CI (a missing service is a broken set-up there), skip elsewhere."""
    message = f"{what} is not reachable: {why}"
    if in_ci():
        pytest.fail(message)
    pytest.skip(message)


def redis_reachable() -> bool:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
        return True
    except redis.RedisError:
        return False
