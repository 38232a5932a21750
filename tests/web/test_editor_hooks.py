"""The editor's webhooks pages: who may open them, registering (secret shown once, SSRF refusal), the
deliveries with their last attempts, replay of one or every failed delivery, removal."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from services.core.db.models import AuditEntry, HookDelivery, HookEndpoint
from services.core.domain import HookDeliveryState
from services.core.runtime import Runtime
from services.hooks import deliveries
from services.review import queue
from tests import factories
from tests.event_driver import handle_recorded_events
from tests.hooks.conftest import Receiver
from tests.local_http import serving
from tests.web.conftest import add_user, client_with, sign_in

_SECRET = re.compile(r'<code id="secret">(whsec_[A-Za-z0-9+/=]+)</code>')
ALL_TYPES = ["tool.queued", "tool.approved", "verdict.completed", "comparison.published", "digest.sent"]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serving() as server:
        yield Receiver(server)


def _editor(rt: Runtime, client: TestClient) -> str:
    add_user(rt, "editor@example.org", "editor")
    return sign_in(client, "editor@example.org")


def _add(client: TestClient, token: str, url: str, types: list[str], description: str = ""):  # noqa: ANN202
    return client.post("/editor/hooks", data={"url": url, "description": description, "event_types": types,
                                              "csrf_token": token})


@pytest.mark.parametrize("path", ["/editor/hooks", "/editor/hooks/1"])
def test_only_editors_and_admins_open_the_pages(rt: Runtime, client: TestClient, path: str) -> None:
    # Given nobody signed in, Then the page sends them to sign in
    assert client.get(path, follow_redirects=False).status_code == 303
    # Given a reviewer and an ops person, Then they are refused
    for email, role in (("reviewer@example.org", "reviewer"), ("ops@example.org", "ops")):
        add_user(rt, email, role)
        other = client_with(rt)
        sign_in(other, email)
        assert other.get(path).status_code == 403
    # Given an editor and an admin, Then the list opens (and an unknown endpoint is a 404)
    for email, role in (("editor@example.org", "editor"), ("admin@example.org", "admin")):
        add_user(rt, email, role)
        allowed = client_with(rt)
        sign_in(allowed, email)
        assert allowed.get(path).status_code == (200 if path == "/editor/hooks" else 404)


def test_an_editor_registers_an_endpoint_and_sees_its_secret_only_once(rt: Runtime, client: TestClient) -> None:
    token = _editor(rt, client)
    # When the editor registers an endpoint for two event types
    added = _add(client, token, "http://127.0.0.1:9/in", ["tool.approved", "digest.sent"], "CRM")
    # Then the answer shows the secret, and the endpoint is stored with those types
    assert added.status_code == 201
    found = _SECRET.search(added.text)
    assert found
    with rt.sessions() as session:
        endpoint = session.scalars(select(HookEndpoint)).one()
        audit = session.scalars(select(AuditEntry)).one()
    assert endpoint.secret == found.group(1) and endpoint.event_types == ["tool.approved", "digest.sent"]
    assert (audit.action, audit.user_id is not None) == ("hook.add", True)
    # And the list, opened again, shows the endpoint but never the whole secret
    page = client.get("/editor/hooks").text
    assert "http://127.0.0.1:9/in" in page and "CRM" in page and found.group(1) not in page
    assert found.group(1)[:10] + "…" in page


def test_a_private_address_is_refused_with_the_form_as_typed_unless_private_networks_are_allowed(rt: Runtime) -> None:
    # Given the default policy (no private networks)
    guarded = client_with(rt, allow_private_networks=False)
    add_user(rt, "editor@example.org", "editor")
    token = sign_in(guarded, "editor@example.org")
    # When an editor registers a loopback URL
    refused = _add(guarded, token, "http://127.0.0.1:8080/in", ["tool.queued"], "internal")
    # Then it is refused with the reason, the form keeps what was typed, and nothing is stored
    assert refused.status_code == 422
    assert "Not added" in refused.text and "non-public address 127.0.0.1" in refused.text
    assert 'value="http://127.0.0.1:8080/in"' in refused.text and 'value="internal"' in refused.text
    with rt.sessions() as session:
        assert session.scalars(select(HookEndpoint)).all() == []


def test_a_form_without_event_types_or_csrf_token_is_refused(rt: Runtime, client: TestClient) -> None:
    token = _editor(rt, client)
    none_chosen = _add(client, token, "http://127.0.0.1:9/in", [])
    assert none_chosen.status_code == 422 and "at least one event type" in none_chosen.text
    forged = client.post("/editor/hooks", data={"url": "http://127.0.0.1:9/in", "event_types": ["tool.queued"]})
    assert forged.status_code == 403
    with rt.sessions() as session:
        assert session.scalars(select(HookEndpoint)).all() == []


def test_the_endpoint_page_lists_deliveries_with_last_attempts_and_replays_them(
        rt: Runtime, client: TestClient, receiver: Receiver) -> None:
    # Given an endpoint registered on the page that always answers 500, and a delivery that failed its only attempt
    token = _editor(rt, client)
    assert _add(client, token, receiver.listen("/in", 500), ALL_TYPES).status_code == 201
    with rt.sessions() as session, session.begin():
        endpoint_id = session.scalars(select(HookEndpoint.id)).one()
        queue.approve(session, factories.candidate(session, "Widget").id, None)
    handle_recorded_events(rt)
    settings = rt.settings.model_copy(update={"hook_max_attempts": 1})
    [(delivery_id, claim)] = deliveries.claim_due(rt.sessions, 60)
    assert deliveries.attempt(rt.sessions, settings, delivery_id, claim) == HookDeliveryState.FAILED
    # When the editor opens the endpoint's page
    page = client.get(f"/editor/hooks/{endpoint_id}").text
    # Then the delivery shows as failed with its attempt's status, duration and error, and a replay button
    assert f'id="delivery-{delivery_id}" data-state="failed"' in page
    assert "#1" in page and "HTTP 500" in page and " ms" in page and "receiver says no" in page
    assert f"/editor/hooks/{endpoint_id}/deliveries/{delivery_id}/replay" in page
    # When the editor replays it, and then every failed delivery
    one = client.post(f"/editor/hooks/{endpoint_id}/deliveries/{delivery_id}/replay", data={"csrf_token": token},
                      follow_redirects=False)
    assert one.status_code == 303
    all_failed = client.post(f"/editor/hooks/{endpoint_id}/replay-failed", data={"csrf_token": token},
                             follow_redirects=True)
    # Then one new delivery is pending (the replayed one is not replayed twice) and the page says so
    assert "0 failed delivery(ies) will be sent again." in all_failed.text
    with rt.sessions() as session:
        rows = session.scalars(select(HookDelivery).order_by(HookDelivery.id)).all()
        actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert [(d.state, d.replay_of_id) for d in rows] == [(HookDeliveryState.FAILED, None),
                                                         (HookDeliveryState.PENDING, delivery_id)]
    assert [a for a in actions if a.startswith("hook.")] == ["hook.add", "hook.replay", "hook.replay_failed"]
    # And a pending delivery cannot be replayed (409)
    busy = client.post(f"/editor/hooks/{endpoint_id}/deliveries/{rows[1].id}/replay", data={"csrf_token": token})
    assert busy.status_code == 409


def test_removing_an_endpoint_drops_it_and_its_deliveries(rt: Runtime, client: TestClient) -> None:
    token = _editor(rt, client)
    _add(client, token, "http://127.0.0.1:9/in", ["tool.approved"])
    with rt.sessions() as session, session.begin():
        endpoint_id = session.scalars(select(HookEndpoint.id)).one()
        queue.approve(session, factories.candidate(session, "Widget").id, None)
    handle_recorded_events(rt)
    removed = client.post(f"/editor/hooks/{endpoint_id}/remove", data={"csrf_token": token}, follow_redirects=True)
    assert removed.status_code == 200 and f"Removed webhook endpoint {endpoint_id}" in removed.text
    with rt.sessions() as session:
        assert session.scalars(select(HookEndpoint)).all() == [] and session.scalars(select(HookDelivery)).all() == []
    assert client.post(f"/editor/hooks/{endpoint_id}/remove", data={"csrf_token": token}).status_code == 404


def test_the_answer_with_the_secret_is_not_cached_and_sending_the_form_again_makes_no_twin(
        rt: Runtime, client: TestClient) -> None:
    token = _editor(rt, client)
    # When an endpoint is registered, Then the answer with its secret must not be stored by any cache
    added = _add(client, token, "http://127.0.0.1:9/in", ["tool.approved"], "CRM")
    assert added.status_code == 201 and added.headers["cache-control"] == "no-store"
    # When the same form is sent again (a refresh), Then it is refused with the form, naming the endpoint
    again = _add(client, token, "http://127.0.0.1:9/in", ["tool.approved"], "CRM")
    assert again.status_code == 422 and "already sends tool.approved to http://127.0.0.1:9/in" in again.text
    assert 'id="hook-add"' in again.text and _SECRET.search(again.text) is None
    with rt.sessions() as session:
        assert len(session.scalars(select(HookEndpoint)).all()) == 1


@pytest.mark.parametrize(("fields", "why"), [
    ({"description": "CRM \u202egnp.exe"}, "bidirectional control character (U+202E)"),
    ({"url": "http://1.1.1.1:99999/"}, "malformed URL"),
    ({"url": "http://user:pw@127.0.0.1:9/in"}, "user name or password"),
    ({"event_types": ["tool.queued"] * 11}, "11 event types given"),
    ({"url": ""}, "the URL cannot be empty"),
])
def test_bad_form_input_answers_the_page_with_the_form_and_the_reason(rt: Runtime, client: TestClient,
                                                                       fields: dict[str, object], why: str) -> None:
    token = _editor(rt, client)
    sent = {"url": "http://127.0.0.1:9/in", "description": "", "event_types": ["tool.queued"], **fields}
    refused = client.post("/editor/hooks", data={**sent, "csrf_token": token})
    assert refused.status_code == 422 and refused.headers["content-type"].startswith("text/html")
    assert 'id="add-error"' in refused.text and why in refused.text and 'id="hook-add"' in refused.text
    with rt.sessions() as session:
        assert session.scalars(select(HookEndpoint)).all() == []


#: What a browser sends: error pages are for clients that ask for HTML (others get JSON).
BROWSER = {"accept": "text/html"}


@pytest.mark.parametrize("fields", [{"description": "d" * 201}, {"url": "http://127.0.0.1:9/" + "a" * 2100}],
                         ids=["description", "url"])
def test_a_field_past_its_length_is_refused_with_a_page_naming_it(rt: Runtime, client: TestClient,
                                                                   fields: dict[str, object]) -> None:
    # Given an editor, When a field longer than the schema allows is sent (the page's maxlength stops browsers)
    token = _editor(rt, client)
    sent = {"url": "http://127.0.0.1:9/in", "description": "", "event_types": ["tool.queued"], **fields}
    refused = client.post("/editor/hooks", data={**sent, "csrf_token": token}, headers=BROWSER)
    # Then the answer is the form-error page naming the field, and nothing is registered
    assert refused.status_code == 422 and refused.headers["content-type"].startswith("text/html")
    assert next(iter(fields)) in refused.text
    with rt.sessions() as session:
        assert session.scalars(select(HookEndpoint)).all() == []


@pytest.mark.parametrize(("segment", "status"), [("0", 422), ("abc", 422), ("-1", 422), ("99999999999", 422),
                                                 ("1.5", 422), ("999", 404)])
def test_an_id_in_the_path_that_is_no_row_id_is_a_422_page_and_an_unknown_one_the_not_found_page(
        rt: Runtime, client: TestClient, segment: str, status: int) -> None:
    # Given an editor with no endpoint registered
    token = _editor(rt, client)
    # When each page taking an id is asked for one that is malformed or past the range, or names no row
    for answer in (client.get(f"/editor/hooks/{segment}", headers=BROWSER),
                   client.post(f"/editor/hooks/{segment}/remove", data={"csrf_token": token}, headers=BROWSER),
                   client.post(f"/editor/hooks/{segment}/replay-failed", data={"csrf_token": token}, headers=BROWSER),
                   client.post(f"/editor/hooks/1/deliveries/{segment}/replay", data={"csrf_token": token},
                               headers=BROWSER)):
        # Then the answer is a page (never JSON or a 500): the form-error page, or the not-found page
        assert answer.status_code == status and answer.headers["content-type"].startswith("text/html")
        assert ("Not found" if status == 404 else "Check the form") in answer.text


def test_the_form_bounds_the_url_and_descriptions_are_isolated_and_the_tables_stack(rt: Runtime,
                                                                                    client: TestClient) -> None:
    token = _editor(rt, client)
    assert _add(client, token, "http://127.0.0.1:9/in", ["tool.queued"], "\u05e9\u05dc\u05d5\u05dd CRM").status_code == 201
    with rt.sessions() as session:
        endpoint_id = session.scalars(select(HookEndpoint.id)).one()
    listed = client.get("/editor/hooks").text
    assert 'name="url" required maxlength="2048"' in listed and 'maxlength="200"' in listed
    assert "<bdi>\u05e9\u05dc\u05d5\u05dd CRM</bdi>" in listed and '<div class="table-scroll"' in listed
    detail = client.get(f"/editor/hooks/{endpoint_id}").text
    assert "<bdi>\u05e9\u05dc\u05d5\u05dd CRM</bdi>" in detail and '<div class="table-scroll"' in detail


def test_a_delivery_replayed_from_the_page_twice_is_replayed_once(rt: Runtime, client: TestClient,
                                                                  receiver: Receiver) -> None:
    # Given a delivery that failed its only attempt
    token = _editor(rt, client)
    assert _add(client, token, receiver.listen("/in", 500), ["tool.approved"]).status_code == 201
    with rt.sessions() as session, session.begin():
        endpoint_id = session.scalars(select(HookEndpoint.id)).one()
        queue.approve(session, factories.candidate(session, "Widget").id, None)
    handle_recorded_events(rt)
    [(delivery_id, claim)] = deliveries.claim_due(rt.sessions, 60)
    once = rt.settings.model_copy(update={"hook_max_attempts": 1})
    assert deliveries.attempt(rt.sessions, once, delivery_id, claim) == HookDeliveryState.FAILED
    # When the replay form is sent twice
    path = f"/editor/hooks/{endpoint_id}/deliveries/{delivery_id}/replay"
    assert client.post(path, data={"csrf_token": token}, follow_redirects=False).status_code == 303
    twice = client.post(path, data={"csrf_token": token}, headers={"accept": "text/html"})
    # Then the second is refused naming the replay, and there is one
    assert twice.status_code == 409 and "already replayed as delivery" in twice.text
    with rt.sessions() as session:
        assert len(session.scalars(select(HookDelivery).where(HookDelivery.replay_of_id == delivery_id)).all()) == 1
