"""The ops page's feed health, sends and outbox sections, their actions (audited), and who may see them."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import select

from services.core.db.base import utcnow
from services.core.db.models import AuditEntry, DeliveryBatch, Digest, Event, Source
from services.core.runtime import Runtime
from services.web.app import create_app
from tests.conftest import REDIS_NAMESPACE
from tests.ops.conftest import add_user, csrf_of, sign_in, signed_in_client, token_headers
from tests.services_check import REDIS_URL

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


@pytest.fixture
def ops_client(rt: Runtime, redis_required: None) -> TestClient:
    return signed_in_client(rt)


@pytest.fixture
def api_headers(rt: Runtime) -> dict[str, str]:
    return token_headers(rt)


def _source(rt: Runtime, **fields: object) -> int:
    with rt.sessions() as session, session.begin():
        source = Source(url=fields.pop("url", "https://feeds.example.org/a.xml"), **fields)
        session.add(source)
        session.flush()
        return source.id


def test_feed_health_shows_each_sources_state_and_errors(rt: Runtime, ops_client: TestClient, api_headers) -> None:
    # Given a healthy source and one paused after failures
    ok = _source(rt, last_success_at=utcnow())
    bad = _source(rt, url="https://feeds.example.org/b.xml", state="paused", consecutive_failures=4,
                  last_error="HTTP 503 from the server", last_error_at=utcnow(), state_reason="4 failures")

    # When the page and the JSON are read
    page = ops_client.get("/ops").text
    sources = {s["id"]: s for s in ops_client.get("/api/ops/sources", headers=api_headers).json()}

    # Then both show state, failures, last error and next poll (none while paused)
    assert "HTTP 503 from the server" in page and f'data-source="{bad}"' in page
    assert sources[bad]["paused"] and sources[bad]["consecutive_failures"] == 4 and sources[bad]["next_poll_at"] is None
    assert not sources[ok]["paused"] and sources[ok]["last_success_at"] and sources[ok]["next_poll_at"]
    assert next(iter(sources)) == bad  # failing sources first


def test_pause_resume_and_poll_now_act_and_are_audited(rt: Runtime, ops_client: TestClient) -> None:
    # Given an active source
    source_id = _source(rt)
    client = redis.Redis.from_url(REDIS_URL)
    before = client.llen(f"{REDIS_NAMESPACE}:ingest")

    # When ops pauses it, resumes it, and asks for a poll now
    for action in ("pause", "resume", "poll"):
        response = ops_client.post(f"/ops/sources/{source_id}/{action}", data={"csrf_token": csrf_of(ops_client, "/ops")},
                                   follow_redirects=False)
        assert response.status_code == 303
        if action == "pause":
            with rt.sessions() as session:
                assert session.get(Source, source_id).state == "paused"

    # Then it is active again, one poll message waits on the ingest queue, and all three are audited
    with rt.sessions() as session:
        assert session.get(Source, source_id).state == "active"
        actions = [(e.action, e.subject) for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert client.llen(f"{REDIS_NAMESPACE}:ingest") == before + 1
    newest = client.lindex(f"{REDIS_NAMESPACE}:ingest", -1).decode()
    message = json.loads(client.hget(f"{REDIS_NAMESPACE}:ingest.msgs", newest))
    assert message["actor_name"] == "poll_source" and message["args"] == [source_id]
    assert actions == [("ops.source.pause", f"source:{source_id}"), ("ops.source.resume", f"source:{source_id}"),
                       ("ops.source.poll_now", f"source:{source_id}")]


def test_sends_in_progress_and_the_outbox_backlog_are_listed(rt: Runtime, ops_client: TestClient, api_headers) -> None:
    # Given a digest being sent (one batch sent, one ambiguous, one pending) and an event waiting too long
    with rt.sessions() as session, session.begin():
        digest = Digest(week="2026-W48", subject="s", state="sending")
        session.add(digest)
        session.flush()
        session.add_all([
            DeliveryBatch(digest_id=digest.id, number=1, state="sent", recipient_count=1000),
            DeliveryBatch(digest_id=digest.id, number=2, state="ambiguous", recipient_count=1000,
                          error="the worker stopped mid-send"),
            DeliveryBatch(digest_id=digest.id, number=3, state="pending", recipient_count=250),
        ])
        session.add(Event(type="tool.queued", payload={}, created_at=utcnow() - dt.timedelta(hours=1)))
        session.add(Event(type="tool.queued", payload={}))  # recent: within the grace period

    # When the JSON and the page are read
    [send] = ops_client.get("/api/ops/sends", headers=api_headers).json()
    outbox = ops_client.get("/api/ops/outbox", headers=api_headers).json()
    page = ops_client.get("/ops").text

    # Then batches by state, recipients handed off and the ambiguous batch are shown; one event is late
    assert send["batches"] == {"sent": 1, "ambiguous": 1, "pending": 1}
    assert send["handed_off"] == 1000
    assert [b["number"] for b in send["ambiguous"]] == [2]
    assert [e["type"] for e in outbox] == ["tool.queued"] and outbox[0]["waiting_seconds"] >= 3600
    assert "recipients handed off: <b>1000</b> of 2250" in page
    assert 'data-figure="outbox">1<' in page


@pytest.mark.parametrize("role, status", [("editor", 403), ("reviewer", 403), ("admin", 200), ("ops", 200)])
def test_only_ops_and_admins_see_the_ops_page(rt: Runtime, role: str, status: int) -> None:
    # Given a user of each role; When they open /ops; Then only ops and admins get in
    client = TestClient(create_app(rt), base_url="https://verdicts.example.org")
    add_user(rt, role)
    sign_in(client, f"{role}@example.org")
    assert client.get("/ops").status_code == status
    assert client.get("/ops/live").status_code == status


def test_the_json_api_needs_a_bearer_token(rt: Runtime, ops_client: TestClient, api_headers) -> None:
    # Given a signed-in browser session but no token; When /api/ops/queues is called; Then 401, and 200 with one
    assert ops_client.get("/api/ops/queues").status_code == 401
    rows = ops_client.get("/api/ops/queues", headers=api_headers).json()
    assert {"ingest", "events", "mail"} <= {row["name"] for row in rows}
    assert set(rows[0]) >= {"name", "ready", "delayed", "in_flight", "dead"}
