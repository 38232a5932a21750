"""The engagement report on the web: the editor's page (figures, chart, why opens are off) and its JSON twin;
both refused to everyone else; the send page links to it."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import select

from services.core.db.models import User
from services.core.runtime import Runtime
from services.delivery import webhook_events
from services.delivery.send import start_send
from services.digest import compose
from services.web.auth import issue_token
from tests import factories
from tests.delivery.webhook_worker import process_stored_batches
from tests.web.conftest import add_user, client_with, sign_in

WEEK = "2026-W48"


def _sent_with_events(rt: Runtime) -> None:
    """A digest going out to one reader, who got it and clicked its comparison."""
    with rt.sessions() as session, session.begin():
        factories.published_comparison(session)
        reader = factories.confirmed_subscriber(session, "reader@example.org").id
        digest = compose.compile_week(session, rt.settings, WEEK)
        compose.approve(session, digest.id)
        start_send(session, digest.id)
        events = [{"event": kind, "sg_event_id": f"ev-{kind}", "timestamp": 1764400000, "digest_id": str(digest.id),
                   "subscriber_id": str(reader), "url": "https://verdicts.example.org/c/alpha-vs-beta"}
                  for kind in ("delivered", "click", "open")]
        webhook_events.store(session, json.dumps(events), len(events))
    process_stored_batches(rt)


def test_an_editor_sees_the_report_with_its_chart_and_why_opens_are_off(rt: Runtime, client: TestClient) -> None:
    # Given a digest with a delivery, a click and an open processed, and a signed-in editor
    _sent_with_events(rt)
    add_user(rt, "editor@example.org", "editor")
    sign_in(client, "editor@example.org")
    # When the editor opens the report
    page = client.get(f"/editor/digests/{WEEK}/report")
    # Then it shows the figures, the link clicked, the chart and why opens are left out
    assert page.status_code == 200
    assert "unique clickers</th><td>1</td>" in page.text
    assert "https://verdicts.example.org/c/alpha-vs-beta</td><td>1</td>" in page.text
    assert "<svg class=\"chart\"" in page.text and "<polyline" in page.text
    assert 'id="opens-note"' in page.text and "Apple Mail Privacy Protection" in page.text
    assert "<th>opens</th>" not in page.text
    # And the send page links to it
    assert f'href="/editor/digests/{WEEK}/report"' in client.get(f"/editor/sends/{WEEK}").text


def test_with_open_tracking_on_the_page_shows_opens(rt: Runtime) -> None:
    _sent_with_events(rt)
    add_user(rt, "editor@example.org", "editor")
    client = client_with(rt, open_tracking=True)
    sign_in(client, "editor@example.org")
    page = client.get(f"/editor/digests/{WEEK}/report")
    assert "<th>opens</th><td>1 (1 unique)</td>" in page.text and 'id="opens-note"' not in page.text


def test_the_page_is_refused_to_anyone_but_editors(rt: Runtime, client: TestClient) -> None:
    # Given a sent digest; a stranger, then a signed-in reviewer and ops person
    _sent_with_events(rt)
    assert client.get(f"/editor/digests/{WEEK}/report", follow_redirects=False).status_code == 303  # to /login
    for role in ("reviewer", "ops"):
        add_user(rt, f"{role}@example.org", role)
        other = client_with(rt)
        sign_in(other, f"{role}@example.org")
        # Then each is refused
        assert other.get(f"/editor/digests/{WEEK}/report").status_code == 403


def test_the_json_report_answers_editors_tokens_only(rt: Runtime, client: TestClient) -> None:
    # Given a sent digest, an editor's and a reviewer's API tokens
    _sent_with_events(rt)
    tokens = {}
    for role in ("editor", "reviewer"):
        add_user(rt, f"{role}@example.org", role)
        with rt.sessions() as session, session.begin():
            user = session.scalar(select(User).where(User.email == f"{role}@example.org"))
            tokens[role] = issue_token(session, user, rt.settings.api_token_days)
    # When each asks for the report
    answers = {role: client.get(f"/api/digests/{WEEK}/report", headers={"authorization": f"Bearer {token}"})
               for role, token in tokens.items()}
    # Then the editor gets the figures, the reviewer a 403, and an unknown week is a 404
    assert answers["reviewer"].status_code == 403
    body = answers["editor"].json()
    assert (body["counts"]["delivered"], body["counts"]["click"], body["unique_clickers"]) == (1, 1, 1)
    assert "open" not in body["counts"] and body["opens_note"]
    assert len(body["hourly"]["delivered"]) == 72
    assert client.get("/api/digests/2020-W01/report",
                      headers={"authorization": f"Bearer {tokens['editor']}"}).status_code == 404


def test_a_stored_post_that_failed_to_process_is_shown_on_the_report_and_in_the_metrics(
        rt: Runtime, client: TestClient) -> None:
    # Given a sent digest, and a stored post whose body no longer parses, processed by the worker
    _sent_with_events(rt)
    with rt.sessions() as session, session.begin():
        webhook_events.store(session, '[{"sg_event_id": "ev-9"', 1)
    process_stored_batches(rt)
    add_user(rt, "editor@example.org", "editor")
    sign_in(client, "editor@example.org")
    # When the editor opens the report and Prometheus scrapes /metrics
    page = client.get(f"/editor/digests/{WEEK}/report").text
    metrics = client.get("/metrics").text
    # Then both show the failed post
    assert "1 stored webhook post(s) failed to process" in page
    assert 'verdicts_webhook_batches{state="failed"} 1.0' in metrics
    assert 'verdicts_webhook_batches{state="processed"} 1.0' in metrics
