"""Every figure of the ops page, the JSON API and `verdicts queues` against real Redis and real workers."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import redis
from dramatiq.brokers.redis import RedisBroker
from fastapi.testclient import TestClient

from services.core import broker
from services.core.middleware.worker_registry import registry_key
from services.core.runtime import Runtime
from tests.cli import cli_env, run_cli
from tests.conftest import REDIS_NAMESPACE
from tests.ops.conftest import REPO, kill_group, wait_until, worker_process, worker_thread
from tests.ops.figures import page_figures
from tests.services_check import REDIS_URL

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


def api_queues(client: TestClient, headers: dict[str, str]) -> dict[str, dict[str, object]]:
    response = client.get("/api/ops/queues", headers=headers)
    assert response.status_code == 200
    return {row["name"]: row for row in response.json()}


def depth(row: dict[str, object]) -> dict[str, object]:
    return {key: row[key] for key in ("ready", "delayed", "in_flight", "dead", "processed_last_hour",
                                      "failed_last_hour")}


def test_a_drained_queue_shows_its_dead_letters_and_the_last_hours_counts(rt: Runtime, ops_client: TestClient,
                                                                          api_headers, make_probe) -> None:
    # Given a queue whose worker handled 3 good messages and 2 that failed for good
    probe = make_probe()
    with worker_thread(probe.queue):
        for n in range(3):
            probe.succeed.send(n)
        for n in range(2):
            probe.fail.send("tok", n)
        wait_until(lambda: api_queues(ops_client, api_headers)[probe.queue]["dead"] == 2, what="2 dead letters")
        wait_until(lambda: api_queues(ops_client, api_headers)[probe.queue]["processed_last_hour"] == 3,
                   what="3 processed")

    # When the JSON API and the page are read
    row = api_queues(ops_client, api_headers)[probe.queue]
    shown = page_figures(ops_client.get("/ops").text)[probe.queue]

    # Then both say: nothing waiting, 2 dead, 3 processed and 2 failed in the last hour
    assert depth(row) == {"ready": 0, "delayed": 0, "in_flight": 0, "dead": 2, "processed_last_hour": 3,
                          "failed_last_hour": 2}
    assert shown == {"ready": 0, "delayed": 0, "in_flight": 0, "dead": 2, "processed": 3, "failed": 2}


def test_ready_delayed_in_flight_and_a_killed_worker_show_on_page_json_and_cli(
        rt: Runtime, ops_client: TestClient, api_headers, make_probe, monkeypatch, tmp_path: Path) -> None:
    # Given a real `dramatiq` worker process with one thread (so it prefetches two messages) on a queue
    probe = make_probe()
    idle = make_probe()
    with worker_process(probe.queue, idle.queue, threads=1) as process:
        wait_until(lambda: any(w["alive"] and probe.queue in w["queues"]
                               for w in ops_client.get("/api/ops/workers", headers=api_headers).json()),
                   what="the worker's heartbeat")
        # When three long naps are sent (two fetched by the worker, one left waiting), one message is
        # delayed for ten minutes, and a stranger queue this process never declared gets a message
        for _ in range(3):
            probe.nap.send(120)
        probe.succeed.send_with_options(args=(1,), delay=600_000)
        stranger = f"stranger-{probe.queue}"
        other = RedisBroker(url=REDIS_URL, namespace=REDIS_NAMESPACE)
        other.enqueue(probe.succeed.message(7).copy(queue_name=stranger))
        wait_until(lambda: api_queues(ops_client, api_headers)[probe.queue]["in_flight"] == 2, what="2 in flight")

        # Then the JSON, the page and the CLI agree on every figure
        expected = {"ready": 1, "delayed": 1, "in_flight": 2, "dead": 0, "processed_last_hour": 0,
                    "failed_last_hour": 0}
        rows = api_queues(ops_client, api_headers)
        assert depth(rows[probe.queue]) == expected
        assert rows[stranger]["ready"] == 1 and rows[stranger]["declared"] is False
        shown = page_figures(ops_client.get("/ops").text)
        assert shown[probe.queue] == {"ready": 1, "delayed": 1, "in_flight": 2, "dead": 0, "processed": 0,
                                      "failed": 0}
        assert shown[stranger]["ready"] == 1
        cli = {row["name"]: row for row in _queues_json(tmp_path)}
        assert depth(cli[probe.queue]) == expected
        assert cli[stranger]["ready"] == 1
        workers = ops_client.get("/api/ops/workers", headers=api_headers).json()
        mine = [w for w in workers if probe.queue in w["queues"]]
        assert len(mine) == 1 and mine[0]["alive"] and sorted(mine[0]["queues"]) == sorted([probe.queue, idle.queue])

        # When the worker is killed outright (the broker's heartbeat timeout shortened to 3 s to see it sooner)
        kill_group(process)
        monkeypatch.setattr(broker.current(), "heartbeat_timeout", 3_000)
        wait_until(lambda: not any(w["alive"] for w in ops_client.get("/api/ops/workers", headers=api_headers).json()
                                   if w["id"] == mine[0]["id"]), what="the killed worker to be seen as gone")

        # Then its two messages are still in flight, shown as stranded, and the worker as gone
        row = api_queues(ops_client, api_headers)[probe.queue]
        assert (row["in_flight"], row["stranded"], row["ready"]) == (2, 2, 1)
        page = ops_client.get("/ops").text
        assert "(2 stranded)" in page
        assert f'data-worker="{mine[0]["id"]}"' in page
        assert 'data-figure="alive">gone' in page


def _queues_json(tmp_path: Path) -> list[dict[str, object]]:
    """The rows `verdicts queues --json` prints; fails the test when the command fails."""
    result = run_cli(None, "queues", "--json", cwd=REPO, **_queues_settings(tmp_path))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _queues_settings(tmp_path: Path) -> dict[str, str]:
    """`verdicts queues`'s variables: this run's Redis namespace, and a SQLite database and var dir in ``tmp_path``."""
    return {"VERDICTS_REDIS_URL": REDIS_URL, "VERDICTS_REDIS_NAMESPACE": REDIS_NAMESPACE,
            "VERDICTS_SECRET_KEY": "cli-secret-key-for-the-test",
            "VERDICTS_DATABASE_URL": f"sqlite:///{tmp_path}/cli.db", "VERDICTS_VAR_DIR": str(tmp_path / "var")}


def test_queues_watch_prints_fresh_figures_until_stopped(make_probe, tmp_path: Path) -> None:
    # Given `verdicts queues --watch --json` running, and an empty probe queue
    probe = make_probe()
    process = subprocess.Popen([sys.executable, "-m", "services.cli", "queues", "--watch", "--json"], cwd=REPO,
                               env=cli_env(**_queues_settings(tmp_path)), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        first = {row["name"]: row for row in json.loads(process.stdout.readline())}
        # When a message is sent to the probe queue
        probe.succeed.send(1)
        # Then a later line shows it waiting, without restarting the command
        for line in process.stdout:
            rows = {row["name"]: row for row in json.loads(line)}
            if rows.get(probe.queue, {}).get("ready") == 1:
                break
        assert first.get(probe.queue, {"ready": 0})["ready"] == 0
        assert rows[probe.queue]["ready"] == 1
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0


def test_queues_watch_stops_on_sigint_even_when_started_with_sigint_ignored(make_probe, tmp_path: Path) -> None:
    # Given `verdicts queues --watch --json` started as a background job of a script is: with SIGINT ignored
    # (exec keeps an ignored signal ignored, and Python then raises no KeyboardInterrupt)
    launch = ("import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
              "os.execv(sys.executable, [sys.executable, '-m', 'services.cli', 'queues', '--watch', '--json'])")
    process = subprocess.Popen([sys.executable, "-c", launch], cwd=REPO, env=cli_env(**_queues_settings(tmp_path)),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        json.loads(process.stdout.readline())
    finally:
        # When it gets SIGINT
        process.send_signal(signal.SIGINT)
        # Then it still stops, with exit 0
        assert process.wait(timeout=30) == 0


def test_queues_prints_a_table_by_default(make_probe, tmp_path: Path) -> None:
    # Given a probe queue with one waiting message
    probe = make_probe()
    probe.succeed.send(1)
    # When `verdicts queues` runs without --json
    result = run_cli(None, "queues", cwd=REPO, COLUMNS="200", **_queues_settings(tmp_path))
    # Then it prints a table with that queue's row
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if probe.queue in line)
    assert [cell.strip() for cell in line.strip("│ ").split("│")][:5] == [probe.queue, "1", "0", "0", "0"]


def test_a_booting_worker_drops_registry_entries_of_workers_the_broker_forgot(make_probe) -> None:
    # Given a registry entry left by a worker killed long ago (no heartbeat any more)
    client = redis.Redis.from_url(REDIS_URL)
    client.hset(registry_key(REDIS_NAMESPACE), "long-gone-worker", '{"queues": ["x"]}')
    probe = make_probe()

    # When a worker boots
    with worker_thread(probe.queue):
        entries = {key.decode() for key in client.hkeys(registry_key(REDIS_NAMESPACE))}

    # Then the forgotten entry is gone and the new worker's own is there
    assert "long-gone-worker" not in entries
    assert broker.current().broker_id in entries
