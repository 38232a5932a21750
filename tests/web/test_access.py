"""Every route of the app that is not on the public list refuses anonymous and wrong-role requests, and
credentials that ended: a session cookie after sign-out, a deactivated person's, a revoked or expired token.

The test walks the app's whole route table, so routes added later are covered without anyone
remembering to add them here; only the public allow-list below is kept by hand.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import fastapi.routing
import pytest
from fastapi.dependencies.models import Dependant
from fastapi.testclient import TestClient

from services.core.db.base import utcnow
from services.core.db.models import User
from services.core.domain import Role
from services.core.runtime import Runtime
from services.web import accounts
from services.web.app import create_app
from services.web.auth import issue_token
from tests.web.conftest import add_user, client_with, csrf, sign_in

#: Pages and endpoints anyone may use (from the URL map in design.md).
PUBLIC_PATHS = {
    "/", "/c/{slug}", "/t/{slug}", "/archive", "/archive.atom", "/archive/{week}", "/subscribe",
    "/confirm/{token}", "/unsubscribe/{token}", "/prefs/{token}", "/vote/{token}", "/login", "/logout",
    "/vote/{token}/{tool_id}/{call}",  # a digest's vote link: its ballot token authenticates it
    "/webhooks/sendgrid", "/metrics", "/healthz", "/readyz", "/api/openapi.json",
    "/api/subscribe", "/api/subscribers",  # the public subscribe endpoint of the API
    "/category/{slug}", "/search", "/comparisons.atom", "/comparisons.json", "/archive.json",  # browsing, feeds
    "/sitemap.xml", "/sitemap-{page:int}.xml", "/robots.txt", "/c/{slug}/og.png",  # for search engines and sharing
    "/login/two-factor",  # sign-in's second step: it answers only a sign-in waiting for its code
}
ROLES = (Role.EDITOR, Role.REVIEWER, Role.OPS)


def _routes(app: fastapi.FastAPI) -> Iterator[tuple[str, str, fastapi.routing.APIRoute | None]]:
    """(path, method, route) for every HTTP route, through included routers."""
    for ctx in fastapi.routing.iter_route_contexts(app.routes):
        route = ctx.route if isinstance(ctx.route, fastapi.routing.APIRoute) else None
        for method in sorted(ctx.methods or ()):
            if method != "HEAD":
                yield ctx.path, method, route


def _allowed_roles(dependant: Dependant) -> set[str] | None:
    """The roles the route's guard lets in (``require``/``require_api`` mark their guards), or None."""
    roles = getattr(dependant.call, "roles", None)
    if roles is not None:
        return set(roles)
    for sub in dependant.dependencies:
        found = _allowed_roles(sub)
        if found is not None:
            return found
    return None


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def _refused_anonymously(response) -> bool:
    to_login = response.status_code == 303 and response.headers["location"].startswith("/login")
    return to_login or response.status_code in (401, 403)


@pytest.fixture
def app(rt: Runtime) -> fastapi.FastAPI:
    return create_app(rt)


def _private(app: fastapi.FastAPI) -> list[tuple[str, str, fastapi.routing.APIRoute | None]]:
    found = [r for r in _routes(app) if r[0] not in PUBLIC_PATHS]
    assert len(found) > 20, "the walk found the editor, panel, comparison and API routes"
    return found


def test_every_private_route_refuses_anonymous_requests(app: fastapi.FastAPI) -> None:
    # Given an anonymous visitor who holds a valid CSRF token (so only the sign-in check can refuse)
    client = TestClient(app, base_url="https://verdicts.example.org")
    token = csrf(client)
    failures = []
    # When they call every private route
    for path, method, _ in _private(app):
        response = client.request(method, _concrete(path), headers={"x-csrf-token": token}, follow_redirects=False)
        if not _refused_anonymously(response):
            failures.append(f"{method} {path} -> {response.status_code}")
    # Then every one of them sends them to sign in or refuses
    assert failures == []


def test_every_private_route_refuses_roles_it_does_not_allow(rt: Runtime, app: fastapi.FastAPI) -> None:
    # Given one signed-in browser and one API token per role
    browsers, tokens = {}, {}
    for role in ROLES:
        user = add_user(rt, f"{role.value}@example.org", role.value, lens="builder" if role is Role.REVIEWER else None)
        browsers[role] = TestClient(app, base_url="https://verdicts.example.org")
        browsers[role].headers["x-csrf-token"] = sign_in(browsers[role], user.email)
        with rt.sessions() as session, session.begin():
            tokens[role] = issue_token(session, session.merge(user), rt.settings.api_token_days)
    unguarded, failures, checked = [], [], 0
    for path, method, route in _private(app):
        roles = _allowed_roles(route.dependant) if route is not None else None
        if roles is None:
            unguarded.append(f"{method} {path}")
            continue
        for role in ROLES:
            if role.value in roles:
                continue
            # When a person of a role the route does not allow calls it
            client = browsers[role]
            headers = {"authorization": f"Bearer {tokens[role]}"} if path.startswith("/api/") else {}
            response = client.request(method, _concrete(path), headers=headers, follow_redirects=False)
            checked += 1
            # Then the answer is 403
            if response.status_code != 403:
                failures.append(f"{role.value}: {method} {path} -> {response.status_code}")
    assert unguarded == [], "private routes must use services.web.auth.require() or require_api()"
    assert failures == []
    assert checked > 20


def test_every_private_page_sends_an_admin_without_two_factor_to_enrol_when_it_is_required(rt: Runtime) -> None:
    # Given VERDICTS_REQUIRE_TWO_FACTOR_FOR_ADMINS on and a signed-in admin who has not enrolled
    client = client_with(rt, require_two_factor_for_admins=True)
    client.headers["x-csrf-token"] = sign_in(client, add_user(rt, "admin@example.org", "admin").email)
    failures, checked = [], 0
    for path, method, _ in _private(client.app):  # type: ignore[arg-type]
        if path.startswith(("/api/", "/account/two-factor")):
            continue  # the API takes tokens, not sessions; the enrolment pages are where they are sent
        # When they call each private page
        response = client.request(method, _concrete(path), follow_redirects=False)
        checked += 1
        # Then it sends them to the enrolment page
        if not (response.status_code == 303 and response.headers["location"] == "/account/two-factor"):
            failures.append(f"{method} {path} -> {response.status_code}")
    assert failures == []
    assert checked > 20


#: How an admin's credentials stopped working, and which of them did: their session cookie, their API token.
ENDED = {"signed out": ("cookie",), "deactivated": ("cookie", "token"), "token revoked": ("token",),
         "token expired": ("token",)}


def _end(rt: Runtime, app: fastapi.FastAPI, how: str) -> tuple[str, str, str]:
    """An admin's session cookie, its CSRF token and an API token, taken before their use ended ``how``."""
    user = add_user(rt, f"{how.replace(' ', '-')}@example.org", "admin")
    browser = TestClient(app, base_url="https://verdicts.example.org")
    csrf_token = sign_in(browser, user.email)
    cookie = browser.cookies["verdicts_session"]
    with rt.sessions() as session, session.begin():
        token = issue_token(session, session.merge(user), rt.settings.api_token_days)
    if how == "signed out":
        browser.post("/logout", data={"csrf_token": csrf_token})
    with rt.sessions() as session, session.begin():
        stored = session.get_one(User, user.id)
        [api_token] = accounts.tokens_of(session, stored)
        if how == "deactivated":
            accounts.deactivate(session, stored, by=None)
        elif how == "token revoked":
            accounts.revoke_token(session, api_token.id, by=None)
        elif how == "token expired":
            api_token.expires_at = utcnow() - dt.timedelta(seconds=1)
    return cookie, csrf_token, token


@pytest.mark.parametrize("how", sorted(ENDED))
def test_every_private_route_refuses_ended_sessions_deactivated_users_and_revoked_or_expired_tokens(
        rt: Runtime, app: fastapi.FastAPI, how: str) -> None:
    # Given an admin (whom no role check refuses) whose session cookie or API token stopped working
    cookie, csrf_token, token = _end(rt, app, how)
    client = TestClient(app, base_url="https://verdicts.example.org")
    # (a copy of the cookie replayed as it was, with its own CSRF token, so only the session check can refuse)
    client.headers.update({"cookie": f"verdicts_session={cookie}", "x-csrf-token": csrf_token})
    failures, checked = [], 0
    for path, method, _ in _private(app):
        credential = "token" if path.startswith("/api/") else "cookie"
        if credential not in ENDED[how]:
            continue
        # When they call each private route that takes the ended credential
        headers = {"authorization": f"Bearer {token}"} if credential == "token" else {}
        response = client.request(method, _concrete(path), headers=headers, follow_redirects=False)
        checked += 1
        # Then it sends them to sign in (pages) or answers 401 (the API)
        to_login = response.status_code == 303 and response.headers["location"].startswith("/login")
        if not (to_login or response.status_code == 401):
            failures.append(f"{method} {path} -> {response.status_code}")
    assert failures == []
    assert checked > 10


def test_an_api_call_needs_a_valid_bearer_token(rt: Runtime, client: TestClient) -> None:
    user = add_user(rt, "editor@example.org", "editor")
    with rt.sessions() as session, session.begin():
        token = issue_token(session, session.merge(user), rt.settings.api_token_days)
    assert client.get("/api/queue").status_code == 401
    assert client.get("/api/queue", headers={"authorization": "Bearer vdt_not-a-real-token"}).status_code == 401
    # A signed-in browser session is not enough for the API: it takes tokens only
    sign_in(client, user.email)
    assert client.get("/api/queue").status_code == 401
    assert client.get("/api/queue", headers={"authorization": f"Bearer {token}"}).json()["total"] == 0


def test_a_state_changing_form_without_the_csrf_token_is_refused(rt: Runtime, client: TestClient) -> None:
    user = add_user(rt, "editor@example.org", "editor")
    token = sign_in(client, user.email)
    # When a form arrives without the token, or with another session's token, Then it is refused
    assert client.post("/editor/queue/bulk", data={"action": "approve", "ids": "1"}).status_code == 403
    assert client.post("/logout", data={"csrf_token": "forged"}).status_code == 403
    # And with the session's token it goes through
    assert client.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303


def test_signing_in_without_the_csrf_token_is_refused(rt: Runtime, client: TestClient) -> None:
    user = add_user(rt, "editor@example.org", "editor")
    response = client.post("/login", data={"email": user.email, "password": "correct horse battery"},
                           follow_redirects=False)
    assert response.status_code == 403


#: POST routes without the session's CSRF token, and why that is safe.
CSRF_EXEMPT = {
    "/webhooks/sendgrid": "SendGrid signs each request; no browser session is involved",
    "/unsubscribe/{token}": "RFC 8058 one-click unsubscribe comes from mail clients; the signed token is the secret",
    "/prefs/{token}": "the signed per-subscriber token in the path is a secret a forger does not have",
    "/subscribe": "public double opt-in form: a forged post only sends a confirmation mail, and it is rate-limited",
}


def test_every_state_changing_form_refuses_a_post_without_the_csrf_token(rt: Runtime, app: fastapi.FastAPI) -> None:
    # Given a signed-in admin (whom no role check refuses) whose browser sends no CSRF token
    client = TestClient(app, base_url="https://verdicts.example.org")
    sign_in(client, add_user(rt, "admin@example.org", "admin").email)
    posts = [path for path, method, _ in _routes(app)
             if method in ("POST", "PUT", "PATCH", "DELETE") and not path.startswith("/api/") and path not in CSRF_EXEMPT]
    assert "/editor/queue/{tool_id}/approve" in posts and "/login" in posts
    # When each form route is posted to, Then it is refused with 403
    failures = [f"{path} -> {status}" for path in posts
                if (status := client.post(_concrete(path), data={"x": "1"}, follow_redirects=False).status_code) != 403]
    assert failures == []
