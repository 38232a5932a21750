"""Refusals answer in one way everywhere: NotFound 404, Conflict 409, InvalidInput 400; JSON under /api/, a page elsewhere."""

from __future__ import annotations

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from services.core.errors import Conflict, DomainError, InvalidInput, NotFound
from services.core.runtime import Runtime
from services.web.app import create_app
from services.web.errors import echo

KINDS: dict[str, type[DomainError]] = {"missing": NotFound, "taken": Conflict, "bad": InvalidInput}


def _app(rt: Runtime) -> FastAPI:
    """The real app with a page and an API route that raise the refusal their path names."""
    app = create_app(rt)

    @app.post("/probe/{kind}")
    def page_route(request: Request, kind: str) -> None:
        echo(request, "name: Mine")
        raise KINDS[kind](f"refused as {kind}")

    @app.post("/api/probe/{kind}")
    def api_route(kind: str) -> None:
        raise KINDS[kind](f"refused as {kind}")

    return app


@pytest.mark.parametrize(("kind", "status"), [("missing", 404), ("taken", 409), ("bad", 400)])
def test_an_api_refusal_is_json_with_its_status_and_message(rt: Runtime, kind: str, status: int) -> None:
    # When an /api/ route refuses
    response = TestClient(_app(rt)).post(f"/api/probe/{kind}")
    # Then the status says which kind of refusal, and the JSON body says why
    assert response.status_code == status
    assert response.json() == {"detail": f"refused as {kind}"}


@pytest.mark.parametrize(("kind", "status", "title"), [("missing", 404, "Not found"),
                                                       ("taken", 409, "That did not work"),
                                                       ("bad", 400, "That did not work")])
def test_a_page_refusal_is_the_message_page_with_its_status(rt: Runtime, kind: str, status: int, title: str) -> None:
    # When a page route refuses, even to a client that does not ask for HTML
    response = TestClient(_app(rt)).post(f"/probe/{kind}", headers={"accept": "application/json"})
    # Then the message page answers, titled for the kind of refusal, with the reason
    assert response.status_code == status and response.headers["content-type"].startswith("text/html")
    assert f"<h1>{title}</h1>" in response.text and f"refused as {kind}" in response.text


def test_only_a_conflict_shows_back_what_the_person_sent(rt: Runtime) -> None:
    client = TestClient(_app(rt))
    # When a form that echoes its input loses a conflict, and when it sends a bad value
    lost, bad = client.post("/probe/taken"), client.post("/probe/bad")
    # Then the conflict's page repeats the input (nothing typed is lost); a plain refusal does not
    assert "What you sent: name: Mine" in lost.text
    assert "What you sent" not in bad.text
