"""Test-wide set-up: the broker (real Redis, in a namespace of its own), databases, runtimes.

The broker is set here, at import, before any test module imports an actor module: this file
is the test process's entry point, as `services.workers` is a worker's.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text

from services.core import runtime
from services.core.db.base import Base
from services.core.db.migrate import upgrade
from services.core.db.scratch import create_database, drop_database
from services.core.runtime import Runtime
from services.core.settings import Settings, load_settings
from services.workers import boot
from tests.browser import browser  # noqa: F401  (the session-wide Chromium fixture)
from tests.services_check import (
    PG_ADMIN_URL,
    REDIS_URL,
    in_ci,
    redis_reachable,
    unavailable,
)

RUN_ID = uuid.uuid4().hex[:10]
REDIS_NAMESPACE = f"verdicts-test-{RUN_ID}"
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
HAVE_REDIS = redis_reachable()
if not HAVE_REDIS and in_ci():
    raise RuntimeError(f"Redis is not reachable at {REDIS_URL}, and CI needs it")

_boot_settings = load_settings(
    {},
    redis_url=REDIS_URL if HAVE_REDIS else None,
    redis_namespace=REDIS_NAMESPACE,
    secret_key="test-secret-key-not-for-production",
    database_url="sqlite:///:memory:",
)
boot(_boot_settings)  # declares every actor on the test broker


def shared_path(*parts: str) -> Path:
    """A file under ../shared; fails under CI when it is missing, skips elsewhere."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        if in_ci():
            pytest.fail(f"{path} is missing")
        pytest.skip(f"{path} is missing")
    return path


@pytest.fixture
def redis_required() -> None:
    if not HAVE_REDIS:
        unavailable("Redis", REDIS_URL)


@pytest.fixture(scope="session", autouse=True)
def _flush_test_namespace() -> Iterator[None]:
    yield
    if HAVE_REDIS:
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"{REDIS_NAMESPACE}*"):
            client.delete(key)


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    """A throwaway PostgreSQL database for this test run, migrated to head, dropped at the end."""
    name = f"verdicts_test_{RUN_ID}"
    try:
        url = create_database(PG_ADMIN_URL, name)
    except psycopg.OperationalError as exc:
        unavailable("PostgreSQL", exc)
    try:
        yield url
    finally:
        drop_database(PG_ADMIN_URL, name)


def make_settings(tmp_path: Path, database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "redis_url": REDIS_URL if HAVE_REDIS else None,
        "redis_namespace": REDIS_NAMESPACE,
        "secret_key": "test-secret-key-not-for-production",
        "outbox_dir": str(tmp_path / "outbox"),
        "var_dir": str(tmp_path / "var"),
        "base_url": "https://verdicts.example.org",
        "allow_private_networks": True,
        **overrides,
    }
    return load_settings({}, **values)


_pg_migrated: set[str] = set()


def _truncate_all(rt: Runtime) -> None:
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    with rt.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def pg_runtime(pg_database_url: str, tmp_path: Path) -> Iterator[Runtime]:
    """A runtime on the run's PostgreSQL database, emptied before the test, installed for actors."""
    rt = Runtime.from_settings(make_settings(tmp_path, pg_database_url))
    if pg_database_url not in _pg_migrated:
        upgrade(rt.engine)
        _pg_migrated.add(pg_database_url)
    _truncate_all(rt)
    runtime.install(rt)
    yield rt
    rt.engine.dispose()


@pytest.fixture
def sqlite_runtime(tmp_path: Path) -> Iterator[Runtime]:
    rt = Runtime.from_settings(make_settings(tmp_path, f"sqlite:///{tmp_path / 'verdicts.db'}"))
    upgrade(rt.engine)
    runtime.install(rt)
    yield rt
    rt.engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_runtime(request: pytest.FixtureRequest) -> Runtime:
    """The same test on both backends the project supports."""
    name = "sqlite_runtime" if request.param == "sqlite" else "pg_runtime"
    return request.getfixturevalue(name)


@pytest.fixture
def rt(pg_runtime: Runtime) -> Runtime:
    """The default runtime of a test: real PostgreSQL."""
    return pg_runtime
