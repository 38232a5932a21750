"""`verdicts hooks add | list | deliveries | replay | remove`, run as the real command."""

from __future__ import annotations

import json
import re
from functools import partial

from sqlalchemy import select

from services.core.db.models import AuditEntry
from services.core.domain import HookDeliveryState
from services.core.runtime import Runtime
from services.hooks import deliveries
from services.review import queue
from tests import factories
from tests.cli import run_cli
from tests.event_driver import handle_recorded_events
from tests.hooks.conftest import Receiver

_cli = partial(run_cli, VERDICTS_ALLOW_PRIVATE_NETWORKS="1", COLUMNS="240")


def test_the_commands_add_list_replay_and_remove_an_endpoint(rt: Runtime, receiver: Receiver) -> None:
    # When an endpoint is added for approvals
    url = receiver.listen("/in", 500)
    added = _cli(rt, "hooks", "add", url, "--event", "tool.approved", "--description", "CRM")
    # Then it prints its id and its secret, once
    assert added.returncode == 0, added.stderr
    endpoint_id = int(re.search(r"added webhook endpoint (\d+)", added.stdout).group(1))  # type: ignore[union-attr]
    secret = re.search(r"(whsec_\S+)", added.stdout).group(1)  # type: ignore[union-attr]
    [row] = json.loads(_cli(rt, "hooks", "list", "--json").stdout)
    assert row["event_types"] == ["tool.approved"] and row["description"] == "CRM" and secret not in json.dumps(row)
    # Given a delivery to it that failed its only attempt
    with rt.sessions() as session, session.begin():
        queue.approve(session, factories.candidate(session, "Widget").id, None)
    handle_recorded_events(rt)
    [(delivery_id, claim)] = deliveries.claim_due(rt.sessions, 60)
    once = rt.settings.model_copy(update={"hook_max_attempts": 1})
    assert deliveries.attempt(rt.sessions, once, delivery_id, claim) == HookDeliveryState.FAILED
    # When its deliveries are listed, Then the attempt shows with its status
    [shown] = json.loads(_cli(rt, "hooks", "deliveries", str(endpoint_id), "--json").stdout)
    assert shown["state"] == "failed" and shown["last_attempts"][0]["status_code"] == 500
    # When the failed deliveries are replayed, Then a new delivery of the same message is queued
    replayed = _cli(rt, "hooks", "replay", str(endpoint_id), "--failed")
    assert replayed.returncode == 0 and f"delivery {delivery_id} replayed as delivery" in replayed.stdout
    assert _cli(rt, "hooks", "replay", str(endpoint_id)).returncode == 2
    # When it is removed, Then it is gone, and removing it again exits 1
    assert _cli(rt, "hooks", "remove", str(endpoint_id)).returncode == 0
    assert json.loads(_cli(rt, "hooks", "list", "--json").stdout) == []
    again = _cli(rt, "hooks", "remove", str(endpoint_id))
    assert again.returncode == 1 and f"no webhook endpoint {endpoint_id}" in again.stderr
    with rt.sessions() as session:
        audit = session.scalars(select(AuditEntry.action).where(AuditEntry.note == "by the command line")).all()
    assert audit == ["hook.add", "hook.replay_failed", "hook.remove"]


def test_adding_a_loopback_endpoint_is_refused_under_the_default_policy(rt: Runtime) -> None:
    done = _cli(rt, "hooks", "add", "http://127.0.0.1:9/in", VERDICTS_ALLOW_PRIVATE_NETWORKS="0")
    assert done.returncode == 1 and "only public addresses" in done.stderr
    assert json.loads(_cli(rt, "hooks", "list", "--json").stdout) == []


def test_adding_a_url_with_a_bad_port_or_host_exits_1_with_an_error_line(rt: Runtime) -> None:
    for url in ("http://1.1.1.1:99999/", "http://1.1.1.1:abc/", "http://[1.1.1.1]/"):
        done = _cli(rt, "hooks", "add", url)
        assert done.returncode == 1 and done.stderr.startswith("error: ") and "malformed URL" in done.stderr
        assert "Traceback" not in done.stderr
    assert json.loads(_cli(rt, "hooks", "list", "--json").stdout) == []
