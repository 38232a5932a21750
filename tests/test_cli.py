"""The command line: the worker command really runs dramatiq over the project's actors; the
source and queue commands read and change the database."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from services.core import events, outbox_actors
from services.core.db.models import Event
from services.core.runtime import Runtime
from tests import factories


def _env(rt: Runtime, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VERDICTS_")}
    env.update({
        "VERDICTS_DATABASE_URL": rt.settings.database_url,
        "VERDICTS_SECRET_KEY": rt.settings.secret(),
        "VERDICTS_VAR_DIR": str(rt.settings.var_dir),
        **extra,
    })
    return env


def _cli(rt: Runtime, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "services.cli", *args], env=_env(rt), capture_output=True,
                          text=True, timeout=120)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_worker_command_handles_events_from_redis(rt: Runtime, redis_required: None, tmp_path: Path) -> None:
    # Given an event published to the Redis namespace of this test run
    with rt.sessions() as session, session.begin():
        event = events.record(session, "test.cli_worker")
        session.flush()
        event_id = event.id
    events.relay(rt.sessions, outbox_actors.publish)
    # When `verdicts worker` runs on the events queue
    env = _env(rt, VERDICTS_REDIS_URL=str(rt.settings.redis_url), VERDICTS_REDIS_NAMESPACE=rt.settings.redis_namespace,
               dramatiq_prom_port=str(_free_port()), dramatiq_prom_db=str(tmp_path / "prom"))
    worker = subprocess.Popen([sys.executable, "-m", "services.cli", "worker", "--queues", "events", "--processes", "1",
                               "--threads", "2"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        handled = False
        while time.monotonic() < deadline and not handled and worker.poll() is None:
            time.sleep(0.2)
            with rt.sessions() as session:
                handled = session.get(Event, event_id).handled_at is not None  # type: ignore[union-attr]
    finally:
        worker.terminate()
        output = worker.communicate(timeout=60)[0]
    # Then the worker process handled it
    assert handled, output


def test_the_worker_command_refuses_embedded_mode(rt: Runtime) -> None:
    done = _cli(rt, "worker")
    assert done.returncode == 2 and "VERDICTS_REDIS_URL" in done.stderr


def test_a_bad_setting_stops_the_command_with_the_variables_name(rt: Runtime) -> None:
    done = subprocess.run([sys.executable, "-m", "services.cli", "feeds", "list"],
                          env=_env(rt, VERDICTS_BASE_URL="nonsense"), capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "VERDICTS_BASE_URL" in done.stderr


def test_feeds_add_list_pause_and_resume(rt: Runtime) -> None:
    assert _cli(rt, "feeds", "add", "https://example.org/feed.xml", "--kind", "feed").returncode == 0
    [row] = json.loads(_cli(rt, "feeds", "list", "--json").stdout)
    assert {"id", "url", "kind", "state", "entries", "last_success_at", "last_error", "consecutive_failures",
            "next_poll_at"} <= set(row)
    assert (row["url"], row["kind"], row["state"]) == ("https://example.org/feed.xml", "feed", "active")
    assert _cli(rt, "feeds", "pause", str(row["id"])).returncode == 0
    assert json.loads(_cli(rt, "feeds", "list", "--json").stdout)[0]["state"] == "paused"
    assert _cli(rt, "feeds", "resume", str(row["id"])).returncode == 0
    assert json.loads(_cli(rt, "feeds", "list", "--json").stdout)[0]["state"] == "active"
    assert _cli(rt, "feeds", "pause", "999").returncode == 1


def test_queue_list_approve_and_reject(rt: Runtime) -> None:
    with rt.sessions() as session, session.begin():
        keep, drop = factories.candidate(session, "Keep").id, factories.candidate(session, "Drop").id
    listed = json.loads(_cli(rt, "queue", "list", "--json").stdout)
    assert {row["name"] for row in listed} == {"Keep", "Drop"}
    assert _cli(rt, "queue", "approve", str(keep)).returncode == 0
    assert _cli(rt, "queue", "reject", str(drop), "--reason", "blog noise").returncode == 0
    assert json.loads(_cli(rt, "queue", "list", "--json").stdout) == []
    again = _cli(rt, "queue", "approve", str(keep))
    assert again.returncode == 1 and "already approved" in again.stderr


def test_digest_compile_and_preview_write_the_files(rt: Runtime, tmp_path: Path) -> None:
    with rt.sessions() as session, session.begin():
        factories.published_comparison(session, "Alpha", "Beta")
    assert _cli(rt, "digest", "compile", "--week", "2026-W48").returncode == 0
    done = _cli(rt, "digest", "preview", "--week", "2026-W48", "--out", str(tmp_path / "preview"))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "preview" / "subject.txt").read_text().startswith("Alpha vs Beta")
    assert "Alpha vs Beta" in (tmp_path / "preview" / "digest.html").read_text()
    assert "Alpha vs Beta" in (tmp_path / "preview" / "digest.txt").read_text()


def test_db_upgrade_migrates_an_empty_sqlite_file(rt: Runtime, tmp_path: Path) -> None:
    env = _env(rt, VERDICTS_DATABASE_URL=f"sqlite:///{tmp_path / 'fresh.db'}")
    done = subprocess.run([sys.executable, "-m", "services.cli", "db", "upgrade"], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "database at head" in done.stdout
    assert (tmp_path / "fresh.db").stat().st_size > 0
