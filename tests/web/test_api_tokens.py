"""API tokens expire, can be read-only, revoked and listed; deactivating a person revokes theirs; all audited."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy import select

from services.core.db.base import utcnow
from services.core.db.models import ApiToken, AuditEntry, User
from services.core.domain import TokenScope
from services.core.runtime import Runtime
from services.web import accounts
from tests.web.conftest import add_user


def _token(rt: Runtime, scope: TokenScope = TokenScope.FULL, email: str = "editor@example.org") -> tuple[int, str]:
    """(user id, token) of a new editor's token issued the way the command line does."""
    user = add_user(rt, email, "editor")
    with rt.sessions() as session, session.begin():
        token = accounts.new_token(session, session.get_one(User, user.id), rt.settings.api_token_days, scope,
                                   by=None)
    return user.id, token


def _bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def _audited(rt: Runtime) -> list[str]:
    with rt.sessions() as session:
        return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_a_new_token_expires_after_the_configured_days_and_shows_only_its_prefix(rt: Runtime) -> None:
    # Given a token issued now
    before = utcnow()
    user_id, token = _token(rt)
    # Then it expires VERDICTS_API_TOKEN_DAYS from now, its listing shows its first characters, and it is audited
    with rt.sessions() as session:
        [stored] = accounts.tokens_of(session, session.get_one(User, user_id))
    lifetime = dt.timedelta(days=rt.settings.api_token_days)
    assert before + lifetime <= stored.expires_at <= utcnow() + lifetime
    assert token.startswith(stored.prefix) and len(stored.prefix) == 12 and stored.scope is TokenScope.FULL
    assert _audited(rt) == ["user.issue_token"]


def test_an_expired_token_is_refused(rt: Runtime, client: TestClient) -> None:
    # Given a token whose expiry has passed
    _user_id, token = _token(rt)
    assert client.get("/api/queue", headers=_bearer(token)).status_code == 200
    with rt.sessions() as session, session.begin():
        session.scalars(select(ApiToken)).one().expires_at = utcnow() - dt.timedelta(seconds=1)
    # When it is used, Then the API answers 401
    response = client.get("/api/queue", headers=_bearer(token))
    assert response.status_code == 401 and "expired" in response.json()["detail"]


def test_a_read_only_token_reads_but_changes_nothing(rt: Runtime, client: TestClient) -> None:
    # Given a read-only token of an editor
    _user_id, token = _token(rt, TokenScope.READ)
    # When it reads, Then it may; When it asks for a change, Then it gets 403
    assert client.get("/api/queue", headers=_bearer(token)).status_code == 200
    refused = client.post("/api/queue/1/reject", json={"reason": "spam"}, headers=_bearer(token))
    assert refused.status_code == 403 and "read-only" in refused.json()["detail"]


def test_a_revoked_token_is_refused_and_the_revocation_audited(rt: Runtime, client: TestClient) -> None:
    # Given a working token
    user_id, token = _token(rt)
    with rt.sessions() as session:
        [stored] = accounts.tokens_of(session, session.get_one(User, user_id))
    # When it is revoked
    with rt.sessions() as session, session.begin():
        assert accounts.revoke_token(session, stored.id, by=None) is not None
    # Then it is refused, and the log names it
    assert client.get("/api/queue", headers=_bearer(token)).status_code == 401
    assert _audited(rt) == ["user.issue_token", "user.revoke_token"]


def test_only_the_owner_may_revoke_a_token_when_an_owner_is_given(rt: Runtime) -> None:
    owner_id, _token_value = _token(rt)
    other_id, _other = _token(rt, email="other@example.org")
    with rt.sessions() as session, session.begin():
        [stored] = accounts.tokens_of(session, session.get_one(User, owner_id))
        # When another person asks to revoke it, Then nothing happens
        assert accounts.revoke_token(session, stored.id, by=other_id, owner=session.get_one(User, other_id)) is None
        assert accounts.tokens_of(session, session.get_one(User, owner_id)) == [stored]


def test_deactivating_a_person_revokes_every_token_they_hold(rt: Runtime, client: TestClient) -> None:
    # Given an editor with a token
    user_id, token = _token(rt)
    # When they are deactivated
    with rt.sessions() as session, session.begin():
        accounts.deactivate(session, session.get_one(User, user_id), by=None)
    # Then the token is gone and refused
    assert client.get("/api/queue", headers=_bearer(token)).status_code == 401
    with rt.sessions() as session:
        assert session.scalars(select(ApiToken)).all() == []
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "user.deactivate")).one()
        assert entry.detail["tokens_revoked"] == 1
