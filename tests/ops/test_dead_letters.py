"""Dead letters on the ops page: what failed and why (secrets hidden), retry one, retry all, purge — all audited."""

from __future__ import annotations

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import select

from services.core.db.models import AuditEntry
from services.core.runtime import Runtime
from tests.conftest import REDIS_NAMESPACE
from tests.ops.conftest import csrf_of, wait_until, worker_thread
from tests.ops.figures import page_figures
from tests.ops.probe_actors import fixed_flag
from tests.services_check import REDIS_URL

pytestmark = [pytest.mark.redis, pytest.mark.postgres]
TOKEN = "s3cr3t-token-value-123"
PASSWORD = "hunter2hunter2"


def figures(client: TestClient, queue: str) -> dict[str, int]:
    return page_figures(client.get("/ops/live").text)[queue]


def audit_actions(rt: Runtime) -> list[tuple[str, str]]:
    with rt.sessions() as session:
        return [(entry.action, entry.subject) for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def test_a_dead_letter_shows_its_actor_masked_arguments_error_and_traceback(
        rt: Runtime, ops_client: TestClient, api_headers, make_probe) -> None:
    # Given a message that failed for good, sent with a token and a password among its arguments
    probe = make_probe()
    with worker_thread(probe.queue):
        probe.fail.send(TOKEN, 1, password=PASSWORD)
        wait_until(lambda: figures(ops_client, probe.queue)["dead"] == 1, what="the dead letter")

    # When the queue's page and its JSON are read
    page = ops_client.get(f"/ops/queues/{probe.queue}").text
    [letter] = ops_client.get(f"/api/ops/queues/{probe.queue}/dead-letters", headers=api_headers).json()

    # Then they show the actor, the arguments, the last error and traceback and the time, never the secrets
    assert letter["actor"] == f"fail_{probe.queue}"
    assert letter["args"] == ["•••", 1] and letter["kwargs"] == {"password": "•••"}
    assert letter["error"].startswith("ValueError: probe failure 1")
    assert "Traceback (most recent call last)" in letter["traceback"] and "probe_actors.py" in letter["traceback"]
    assert letter["dead_at"] is not None
    assert f"fail_{probe.queue}" in page and "ValueError: probe failure 1" in page and "Traceback" in page
    for text in (page, str(letter)):
        assert TOKEN not in text and PASSWORD not in text


def test_retrying_one_dead_letter_after_the_fix_runs_it_and_is_audited(
        rt: Runtime, ops_client: TestClient, make_probe) -> None:
    # Given two dead letters on a queue whose worker is running
    probe = make_probe()
    with worker_thread(probe.queue):
        probe.fail.send("a", 1)
        probe.fail.send("b", 2)
        wait_until(lambda: figures(ops_client, probe.queue)["dead"] == 2, what="two dead letters")
        # When the bug is fixed and one of them is retried from the page
        redis.Redis.from_url(REDIS_URL).set(fixed_flag(REDIS_NAMESPACE, probe.queue), 1)
        page = ops_client.get(f"/ops/queues/{probe.queue}").text
        letter_id = page.split('data-letter="', 1)[1].split('"', 1)[0]
        response = ops_client.post(f"/ops/queues/{probe.queue}/dead/{letter_id}/retry",
                                   data={"csrf_token": csrf_of(ops_client, "/ops")}, follow_redirects=False)

        # Then it runs and succeeds: one dead letter left, one more processed, and the action is in the audit log
        assert response.status_code == 303
        wait_until(lambda: figures(ops_client, probe.queue)["processed"] == 1, what="the retried message to run")
    assert figures(ops_client, probe.queue)["dead"] == 1
    assert ("ops.dead_letter.retry", f"queue:{probe.queue}") in audit_actions(rt)
    # And a second retry of the same letter finds it gone rather than sending it twice
    again = ops_client.post(f"/ops/queues/{probe.queue}/dead/{letter_id}/retry",
                            data={"csrf_token": csrf_of(ops_client, "/ops")})
    assert "Not sent: it was retried or purged already" in again.text


def test_retry_all_puts_every_dead_letter_back_and_purge_asks_first(
        rt: Runtime, ops_client: TestClient, make_probe) -> None:
    # Given three dead letters and no worker on their queue
    probe = make_probe()
    with worker_thread(probe.queue):
        for n in range(3):
            probe.fail.send("t", n)
        wait_until(lambda: figures(ops_client, probe.queue)["dead"] == 3, what="three dead letters")

    # When all are retried
    ops_client.post(f"/ops/queues/{probe.queue}/dead/retry-all", data={"csrf_token": csrf_of(ops_client, "/ops")})

    # Then all three wait on the queue again
    assert figures(ops_client, probe.queue) | {} == {"ready": 3, "delayed": 0, "in_flight": 0, "dead": 0,
                                                   "processed": 0, "failed": 3}

    # When they fail again and ops asks to purge them
    with worker_thread(probe.queue):
        wait_until(lambda: figures(ops_client, probe.queue)["dead"] == 3, what="the retries to fail again")
    confirm = ops_client.get(f"/ops/queues/{probe.queue}/dead/purge")

    # Then a confirmation page comes first, and nothing is dropped until it is accepted
    assert "Yes, purge 3" in confirm.text
    assert figures(ops_client, probe.queue)["dead"] == 3
    done = ops_client.post(f"/ops/queues/{probe.queue}/dead/purge", data={"csrf_token": csrf_of(ops_client, "/ops")})
    assert "3 dead letter(s) purged." in done.text
    assert figures(ops_client, probe.queue)["dead"] == 0
    actions = audit_actions(rt)
    assert ("ops.dead_letter.retry_all", f"queue:{probe.queue}") in actions
    assert ("ops.dead_letter.purge", f"queue:{probe.queue}") in actions


def test_actions_need_the_forms_token_and_an_unknown_queue_is_not_found(rt: Runtime, ops_client: TestClient) -> None:
    # Given a signed-in ops user
    # When a purge is posted without the CSRF token, and a page of a queue that does not exist is asked for
    forged = ops_client.post("/ops/queues/ingest/dead/purge", data={})
    missing = ops_client.get("/ops/queues/no-such-queue")

    # Then the first is refused and the second is a 404
    assert forged.status_code == 403
    assert missing.status_code == 404
