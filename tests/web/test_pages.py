"""The web pages read the database: the comparison page, sign-in, the review queue, the digest preview."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from services.core.runtime import Runtime
from services.digest import compose
from tests import factories
from tests.web.conftest import PASSWORD, add_user, csrf, sign_in


def _editor(rt: Runtime, role: str = "editor") -> str:
    return add_user(rt, f"{role}@example.org", role).email


def _sign_in(client: TestClient, email: str) -> None:
    sign_in(client, email)


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_the_comparison_page_shows_both_tools_the_scorecard_and_a_subscribe_box(rt: Runtime, client: TestClient) -> None:
    with rt.sessions() as session, session.begin():
        slug = factories.published_comparison(session, "Alpha", "Beta").slug
    response = client.get(f"/c/{slug}")
    assert response.status_code == 200
    page = _text(response.text)
    assert "<h1><bdi>Alpha</bdi> vs <bdi>Beta</bdi></h1>" in response.text
    assert "Developer Tools" in page
    assert "Alpha tagline" in page and "Beta description" in page
    assert "75% panel ship" in page and "25% panel ship" in page
    assert "— community" in page
    assert "Free entry" in page
    assert "Builder" in page and "builder on Alpha: ship" in page and "builder on Beta: ship" in page
    assert 'action="/subscribe"' in response.text
    assert '<meta property="og:title" content="Alpha vs Beta">' in response.text


def test_an_unpublished_or_unknown_comparison_is_not_found(client: TestClient) -> None:
    assert client.get("/c/nothing-here").status_code == 404


def test_the_review_queue_sends_anonymous_visitors_to_sign_in(client: TestClient) -> None:
    response = client.get("/editor/queue", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_a_wrong_password_is_refused(rt: Runtime, client: TestClient) -> None:
    email = _editor(rt)
    response = client.post("/login", data={"email": email, "password": "wrong password", "csrf_token": csrf(client)})
    assert response.status_code == 401 and "Wrong email or password" in response.text


def test_an_editor_sees_candidates_with_their_reasons(rt: Runtime, client: TestClient) -> None:
    with rt.sessions() as session, session.begin():
        factories.candidate(session, "Queued Tool")
    _sign_in(client, _editor(rt))
    response = client.get("/editor/queue")
    assert response.status_code == 200
    assert "Queued Tool" in response.text and "0.80" in response.text


def test_a_role_without_editing_rights_is_forbidden(rt: Runtime, client: TestClient) -> None:
    _sign_in(client, _editor(rt, role="ops"))
    assert client.get("/editor/queue").status_code == 403


def test_the_session_cookie_is_httponly_and_secure_on_https(rt: Runtime, client: TestClient) -> None:
    email = _editor(rt)
    response = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": csrf(client)},
                           follow_redirects=False)
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "secure" in cookie and "samesite=lax" in cookie


def test_the_digest_preview_shows_subject_frames_and_plain_text(rt: Runtime, client: TestClient) -> None:
    with rt.sessions() as session, session.begin():
        factories.published_comparison(session, "Alpha", "Beta")
        compose.compile_week(session, rt.settings, "2026-W48")
    _sign_in(client, _editor(rt))
    page = client.get("/editor/digests/2026-W48")
    assert page.status_code == 200
    assert "Alpha vs Beta" in page.text and page.text.count("<iframe") == 2
    assert client.get("/editor/digests/2026-W48/html").text.lstrip().lower().startswith("<!doctype html")


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json() == {"database": "ok", "broker": "ok"}


def test_readiness_names_a_database_that_does_not_answer(tmp_path) -> None:
    from services.web.app import create_app
    from tests.conftest import make_settings

    broken = Runtime.from_settings(make_settings(tmp_path, "postgresql+psycopg://nobody@127.0.0.1:1/none"))
    response = TestClient(create_app(broken)).get("/readyz")
    assert response.status_code == 503 and response.json()["database"].startswith("failed")


def test_subscribing_answers_the_same_for_new_and_known_addresses(client: TestClient) -> None:
    first = client.post("/subscribe", data={"email": "Someone@Example.org"})
    second = client.post("/subscribe", data={"email": "someone@example.org"})
    assert first.status_code == second.status_code == 200
    assert _text(first.text) == _text(second.text)
    assert client.post("/subscribe", data={"email": "not-an-address"}).status_code == 400
