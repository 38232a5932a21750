"""Fixtures of the ops tests: probe queues, real workers (a thread or a `dramatiq` subprocess), signed-in clients."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from dramatiq import Worker
from fastapi.testclient import TestClient

from services.core import broker
from services.core.db.models import User
from services.core.passwords import hash_password
from services.core.runtime import Runtime
from services.web.app import create_app
from services.web.auth import issue_token
from tests.conftest import REDIS_NAMESPACE
from tests.ops.probe_actors import Probe, declare
from tests.services_check import REDIS_URL

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "ops correct horse battery"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def wait_until(condition: Callable[[], object], timeout: float = 90.0, what: str = "the condition") -> object:
    """Poll ``condition`` until it is truthy; fail naming ``what`` when ``timeout`` seconds pass first."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)


def new_probe() -> Probe:
    """Probe actors declared on a fresh queue of the test broker."""
    return declare(broker.current(), f"probe-{uuid.uuid4().hex[:8]}", REDIS_URL, REDIS_NAMESPACE)


@pytest.fixture
def make_probe(redis_required: None) -> Callable[[], Probe]:
    """Declares probe actors on a fresh queue of the test broker (a new queue per call)."""
    return new_probe


@contextmanager
def worker_thread(*queues: str, threads: int = 1) -> Iterator[Worker]:
    """A real dramatiq Worker in this process, on the test broker, consuming only ``queues``."""
    worker = Worker(broker.current(), queues=set(queues), worker_threads=threads, worker_timeout=100)
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()


@contextmanager
def worker_process(*queues: str, threads: int = 1, metrics_dir: Path | None = None,
                   metrics_port: int | None = None) -> Iterator[subprocess.Popen[bytes]]:
    """`python -m dramatiq tests.ops.probe_worker` in a session of its own, killed (the whole group) at the end."""
    env = {**os.environ, "PROBE_REDIS_URL": REDIS_URL, "PROBE_NAMESPACE": REDIS_NAMESPACE,
           "PROBE_QUEUES": ",".join(queues), "PYTHONPATH": str(REPO)}
    if metrics_dir is not None:
        env.update({"PROBE_METRICS": "1", "dramatiq_prom_db": str(metrics_dir),
                    "dramatiq_prom_port": str(metrics_port), "dramatiq_prom_host": "127.0.0.1"})
    argv = [sys.executable, "-m", "dramatiq", "tests.ops.probe_worker", "--processes", "1",
            "--threads", str(threads), "--queues", *queues]
    process = subprocess.Popen(argv, cwd=REPO, env=env, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        yield process
    finally:
        kill_group(process)


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the worker's process group (the dramatiq main process and its children): no clean shutdown."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def add_user(rt: Runtime, role: str, email: str | None = None) -> User:
    with rt.sessions() as session, session.begin():
        user = User(email=email or f"{role}@example.org", role=role, password_hash=hash_password(PASSWORD))
        session.add(user)
        session.flush()
        session.expunge(user)
    return user


def sign_in(client: TestClient, email: str) -> None:
    token = CSRF.search(client.get("/login").text).group(1)  # type: ignore[union-attr]
    response = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token},
                           follow_redirects=False)
    assert response.status_code == 303


def csrf_of(client: TestClient, path: str) -> str:
    return CSRF.search(client.get(path).text).group(1)  # type: ignore[union-attr]


def signed_in_client(rt: Runtime, role: str = "ops") -> TestClient:
    """A browser-like client signed in as a new user of ``role``."""
    client = TestClient(create_app(rt), base_url="https://verdicts.example.org")
    add_user(rt, role)
    sign_in(client, f"{role}@example.org")
    return client


def token_headers(rt: Runtime, role: str = "ops") -> dict[str, str]:
    """Authorization headers of a new ``role`` user's API token."""
    add_user(rt, role, f"{role}-api@example.org")
    with rt.sessions() as session, session.begin():
        user = session.query(User).filter_by(email=f"{role}-api@example.org").one()
        token = issue_token(session, user, rt.settings.api_token_days)
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def ops_client(rt: Runtime) -> TestClient:
    return signed_in_client(rt)


@pytest.fixture
def api_headers(rt: Runtime) -> dict[str, str]:
    return token_headers(rt)
