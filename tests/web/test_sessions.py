"""Staff sessions are checked on the server: sign-out, a new password, a new role and deactivation end every
session of the person at once, and a session ends after its lifetime and after its idle timeout."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from services.core.db.models import AuditEntry, Digest, User
from services.core.domain import Role
from services.core.runtime import Runtime
from services.core.settings import Settings
from services.web import accounts, sessions
from services.web.app import create_app
from tests.web.conftest import add_user, sign_in

COOKIE = "verdicts_session"
WEEK = "2026-W48"


def _replaying(rt: Runtime, cookie: str) -> TestClient:
    """A second browser that sends a copy of someone's session cookie."""
    copy = TestClient(create_app(rt), base_url="https://verdicts.example.org")
    copy.headers["cookie"] = f"{COOKIE}={cookie}"
    return copy


def _refused(response) -> bool:  # type: ignore[no-untyped-def]
    return response.status_code == 303 and response.headers["location"].startswith("/login")


def test_a_signed_out_cookie_replayed_on_a_page_and_on_a_post_is_refused(rt: Runtime, client: TestClient) -> None:
    # Given an editor signed in, and a copy of their session cookie (with its CSRF token) taken meanwhile
    token = sign_in(client, add_user(rt, "editor@example.org", "editor").email)
    copied = client.cookies[COOKIE]
    assert _replaying(rt, copied).get("/editor/queue", follow_redirects=False).status_code == 200
    # When the editor signs out
    assert client.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    # Then the copied cookie opens no page, and its POST (compiling a digest) is sent to sign in, with no effect
    replay = _replaying(rt, copied)
    assert _refused(replay.get("/editor/queue", follow_redirects=False))
    posted = replay.post("/editor/digests/compile", data={"week": WEEK, "force": "true", "csrf_token": token},
                         follow_redirects=False)
    assert _refused(posted)
    with rt.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Digest)) == 0


def test_signing_out_ends_the_sessions_of_the_same_person_in_other_browsers(rt: Runtime, client: TestClient) -> None:
    # Given one editor signed in on two browsers
    user = add_user(rt, "editor@example.org", "editor")
    token = sign_in(client, user.email)
    other = TestClient(create_app(rt), base_url="https://verdicts.example.org")
    sign_in(other, user.email)
    # When they sign out on the first
    client.post("/logout", data={"csrf_token": token})
    # Then the second is signed out too, and signing in again works
    assert _refused(other.get("/editor/queue", follow_redirects=False))
    sign_in(other, user.email)
    assert other.get("/editor/queue", follow_redirects=False).status_code == 200


CHANGES: dict[str, Callable[..., None]] = {
    "set_password": lambda session, user: accounts.set_password(session, user, "another long one", by=None),
    "set_role": lambda session, user: accounts.set_role(session, user, Role.EDITOR, by=None),
    "deactivate": lambda session, user: accounts.deactivate(session, user, by=None),
}


@pytest.mark.parametrize("action", sorted(CHANGES))
def test_a_password_change_a_role_change_or_deactivation_ends_every_session(rt: Runtime, client: TestClient,
                                                                             action: str) -> None:
    # Given an admin signed in
    user = add_user(rt, "admin@example.org", "admin")
    sign_in(client, user.email)
    assert client.get("/editor/queue", follow_redirects=False).status_code == 200
    # When their account changes
    with rt.sessions() as session, session.begin():
        CHANGES[action](session, session.get_one(User, user.id))
    # Then their session is over, and the change is on the audit log
    assert _refused(client.get("/editor/queue", follow_redirects=False))
    with rt.sessions() as session:
        [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == f"user.{action}"))
        assert entry.subject == f"user:{user.id}"


def _live(settings: Settings, since: int, seen: int, now: int, generation: int = 0) -> bool:
    user = User(id=1, email="a@example.org", role=Role.EDITOR, active=True, session_generation=0)
    values = {sessions.USER: 1, sessions.GENERATION: generation, sessions.SINCE: since, sessions.SEEN: seen}
    return sessions.is_live(values, user, settings, now)


def test_a_session_ends_at_its_lifetime_even_when_in_use(rt: Runtime) -> None:
    lifetime = rt.settings.session_lifetime_seconds
    # Given a session used a moment ago, When its lifetime since sign-in is reached, Then it is over
    assert _live(rt.settings, since=0, seen=lifetime - 60, now=lifetime - 1)
    assert not _live(rt.settings, since=0, seen=lifetime - 60, now=lifetime)


def test_a_session_ends_after_the_idle_timeout_without_a_request(rt: Runtime) -> None:
    idle = rt.settings.session_idle_seconds
    # Given a session last used at second 100, Then it lives until the idle timeout has passed since then
    assert _live(rt.settings, since=0, seen=100, now=100 + idle - 1)
    assert not _live(rt.settings, since=0, seen=100, now=100 + idle)


def test_a_cookie_of_an_earlier_generation_is_not_live(rt: Runtime) -> None:
    assert not _live(rt.settings, since=0, seen=0, now=1, generation=-1)

