"""The "my account" page lists the signed-in person's own API tokens and revokes them (CSRF-protected, audited)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from services.core.db.models import AuditEntry, User
from services.core.domain import TokenScope
from services.core.runtime import Runtime
from services.web import accounts
from tests.web.conftest import add_user, sign_in


def _tokens(rt: Runtime, user_id: int, *scopes: TokenScope) -> list[str]:
    with rt.sessions() as session, session.begin():
        user = session.get_one(User, user_id)
        return [accounts.new_token(session, user, rt.settings.api_token_days, scope, by=None) for scope in scopes]


def _token_ids(rt: Runtime, user_id: int) -> list[int]:
    with rt.sessions() as session:
        return [token.id for token in accounts.tokens_of(session, session.get_one(User, user_id))]


def test_the_account_page_lists_only_my_tokens_by_prefix_and_scope(rt: Runtime, client: TestClient) -> None:
    # Given an editor with a full and a read-only token, and someone else's token
    me, other = add_user(rt, "me@example.org", "editor"), add_user(rt, "other@example.org", "editor")
    full, read = _tokens(rt, me.id, TokenScope.FULL, TokenScope.READ)
    [theirs] = _tokens(rt, other.id, TokenScope.FULL)
    sign_in(client, me.email)
    # When they open their account page
    page = client.get("/account").text
    # Then it lists their two tokens by prefix with their scope, never a whole token, and not the other's
    assert full[:12] in page and read[:12] in page and "read-only" in page
    assert full not in page and read not in page and theirs[:12] not in page
    assert page.count("Revoke</button>") == 2


def test_revoking_my_token_on_the_account_page_stops_it_and_is_audited(rt: Runtime, client: TestClient) -> None:
    # Given a signed-in editor with a working token
    me = add_user(rt, "me@example.org", "editor")
    [token] = _tokens(rt, me.id, TokenScope.FULL)
    csrf_token = sign_in(client, me.email)
    [token_id] = _token_ids(rt, me.id)
    # When they press its revoke button
    done = client.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": csrf_token}, follow_redirects=False)
    # Then they are back on the page, the token no longer works, and the audit log names them
    assert done.status_code == 303 and done.headers["location"] == "/account"
    assert client.get("/api/queue", headers={"authorization": f"Bearer {token}"}).status_code == 401
    with rt.sessions() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "user.revoke_token")).one()
        assert entry.user_id == me.id and entry.detail["token_id"] == token_id


def test_nobody_revokes_someone_elses_token_from_their_account_page(rt: Runtime, client: TestClient) -> None:
    # Given an admin signed in, and an editor's token
    admin, editor = add_user(rt, "admin@example.org", "admin"), add_user(rt, "ed@example.org", "editor")
    [token] = _tokens(rt, editor.id, TokenScope.FULL)
    [token_id] = _token_ids(rt, editor.id)
    csrf_token = sign_in(client, admin.email)
    # When the admin posts the editor's token id to their own page's revoke action
    refused = client.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": csrf_token})
    # Then it is not found, and the token still works
    assert refused.status_code == 404
    assert client.get("/api/queue", headers={"authorization": f"Bearer {token}"}).status_code == 200
