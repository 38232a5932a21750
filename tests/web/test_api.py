"""The JSON API does what the queue page does, for scripts with a Bearer token."""

from __future__ import annotations

from fastapi.testclient import TestClient

from services.core import limits
from services.core.domain import Call
from services.core.runtime import Runtime
from services.review import panel
from services.web.auth import issue_token
from tests import factories
from tests.web.conftest import add_user


def _bearer(rt: Runtime, email: str, role: str, lens: str | None = None) -> dict[str, str]:
    user = add_user(rt, email, role, lens)
    with rt.sessions() as session, session.begin():
        return {"authorization": f"Bearer {issue_token(session, session.merge(user), rt.settings.api_token_days)}"}


def test_the_api_lists_approves_with_edits_and_reports_conflicts(rt: Runtime, client: TestClient) -> None:
    with rt.sessions() as session, session.begin():
        first, second = factories.candidate(session, "First").id, factories.candidate(session, "Second").id
    auth = _bearer(rt, "script@example.org", "editor")
    listed = client.get("/api/queue", headers=auth).json()
    assert listed["total"] == 2 and [item["name"] for item in listed["items"]] == ["Second", "First"]
    # When a script approves one with edits at the revision it saw
    approved = client.post(f"/api/queue/{first}/approve", headers=auth,
                           json={"revision": 1, "name": "First Tool", "entry_price": "Free"})
    assert approved.status_code == 200
    assert (approved.json()["name"], approved.json()["state"]) == ("First Tool", "approved")
    # Then deciding it again is a 409 with the reason, and bad requests are 400/422
    again = client.post(f"/api/queue/{first}/reject", headers=auth, json={"reason": "dup"})
    assert again.status_code == 409 and "already approved" in again.json()["detail"]
    assert client.post(f"/api/queue/{second}/reject", headers=auth, json={"reason": " "}).status_code == 400
    assert client.post(f"/api/queue/{second}/snooze", headers=auth, json={"days": 0}).status_code == 422
    merged = client.post(f"/api/queue/{second}/merge", headers=auth, json={"into_id": first})
    assert merged.json()["merged_into_id"] == first


def test_reviewers_call_and_editors_publish_through_the_api(rt: Runtime, client: TestClient) -> None:
    with rt.sessions() as session, session.begin():
        panel.ensure_seats(session)
        done = factories.judged_tool(session, "Done", (Call.SHIP,) * 4)
        fresh = factories.candidate(session, "Fresh")
        done_id, fresh_id = done.id, fresh.id
    editor = _bearer(rt, "ed@example.org", "editor")
    client.post(f"/api/queue/{fresh_id}/approve", headers=editor, json={"category": "Developer Tools"})
    # Each seat's reviewer calls through the API
    state = None
    for lens in ("builder", "skeptic", "strategist", "buyer"):
        reviewer = _bearer(rt, f"{lens}@example.org", "reviewer", lens=lens)
        [item] = client.get("/api/panel/todo", headers=reviewer).json()["items"]
        answer = client.post(f"/api/verdicts/{item['verdict_id']}/calls", headers=reviewer,
                             json={"seat_id": item["seat_id"], "call": "ship", "quote": f"{lens}: yes"})
        state = answer.json()
    assert state == {"verdict_id": state["verdict_id"], "state": "completed", "ship_percent": 100}
    # Then the pair is suggested, and the editor creates, edits and publishes it
    [suggestion] = client.get("/api/comparisons/suggestions", headers=editor).json()["items"]
    assert {suggestion["tool_a_id"], suggestion["tool_b_id"]} == {done_id, fresh_id}
    created = client.post("/api/comparisons", headers=editor,
                          json={"tool_a_id": suggestion["tool_a_id"], "tool_b_id": suggestion["tool_b_id"]})
    assert created.status_code == 201 and created.json()["state"] == "draft"
    cid = created.json()["id"]
    edited = client.patch(f"/api/comparisons/{cid}", headers=editor, json={"headline": "Fresh vs Done, judged"})
    assert edited.json()["headline"] == "Fresh vs Done, judged"
    published = client.post(f"/api/comparisons/{cid}/publish", headers=editor).json()
    assert published["state"] == "published"
    assert [t["panel_ship_percent"] for t in published["tools"]] == [100, 100]
    assert client.get(f"/c/{published['slug']}").status_code == 200
    assert client.post("/api/comparisons/999/publish", headers=editor).status_code == 404


def test_the_openapi_schema_documents_the_review_endpoints_and_bearer_auth(client: TestClient) -> None:
    schema = client.get("/api/openapi.json").json()
    assert {"/api/queue", "/api/queue/{tool_id}/approve", "/api/verdicts/{verdict_id}/calls",
            "/api/comparisons/{comparison_id}/publish"} <= set(schema["paths"])
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert schema["paths"]["/api/queue"]["get"]["security"] == [{"HTTPBearer": []}]


def test_text_sent_with_control_characters_is_stored_without_them_and_a_field_left_empty_is_named(
        rt: Runtime, client: TestClient) -> None:
    # Given two candidates and a published comparison
    with rt.sessions() as session, session.begin():
        seats = panel.ensure_seats(session)
        fresh_id = factories.candidate(session, "Fresh").id
        full_id = factories.candidate(session, "Full").id
        comparison_id = factories.published_comparison(session).id
    editor = _bearer(rt, "script@example.org", "editor")
    reviewer = _bearer(rt, "builder@example.org", "reviewer", lens=seats[0].lens)
    # When a script sends a tagline, a headline and a note pasted with a vertical tab, a form feed and NUL
    approved = client.post(f"/api/queue/{fresh_id}/approve", headers=editor,
                           json={"tagline": "Pasted \x0bfrom \x0ca slide\x00"})
    edited = client.patch(f"/api/comparisons/{comparison_id}", headers=editor,
                          json={"headline": "Alpha\x0b wins", "editor_note": "Line one\x0bline two\x00"})
    # Then each is stored cleaned: one line for the tagline and headline, lines kept in the note
    assert approved.status_code == 200 and approved.json()["tagline"] == "Pasted from a slide"
    assert edited.status_code == 200
    assert (edited.json()["headline"], edited.json()["editor_note"]) == ("Alpha wins", "Line one\nline two")
    # And a tagline as long as its limit allows still fits with a control character pasted after it
    full = client.post(f"/api/queue/{full_id}/approve", headers=editor,
                       json={"tagline": "x" * limits.TAGLINE + "\x0b"})
    assert full.status_code == 200 and full.json()["tagline"] == "x" * limits.TAGLINE
    # And a quote of nothing but control characters is refused as empty, naming the field
    item = client.get("/api/panel/todo", headers=reviewer).json()["items"][0]
    refused = client.post(f"/api/verdicts/{item['verdict_id']}/calls", headers=reviewer,
                          json={"seat_id": item["seat_id"], "call": "ship", "quote": "\x0b\x00"})
    assert refused.status_code == 422
    assert [(e["loc"], e["type"]) for e in refused.json()["detail"]] == [(["body", "quote"], "string_too_short")]
    # And a headline of nothing but control characters is refused with a 400 that names it
    blank = client.patch(f"/api/comparisons/{comparison_id}", headers=editor, json={"headline": "\x0c\x00"})
    assert blank.status_code == 400 and blank.json()["detail"] == "the headline cannot be empty"
