"""Changes to a person's account: a new password, a new role, deactivation, and their API tokens.

A new password, a new role and deactivation end every session of the person at once
(``services.web.sessions.end_all``; OWASP Session Management Cheat Sheet: renew or end sessions on any
privilege change); deactivation revokes every API token too. Every change is written to the audit log
in the caller's transaction as ``user.<action>``, with who did it (``by``; None: the command line).
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from services.core.db.models import ApiToken, AuditEntry, User
from services.core.domain import Role, TokenScope
from services.core.passwords import hash_password
from services.web import sessions
from services.web.auth import SHOWN_PREFIX, issue_token


def audit(session: Session, by: int | None, user: User, action: str, note: str | None, **detail: object) -> None:
    """Write ``user.<action>`` about ``user`` to the audit log, done by user ``by`` (None: the command line)."""
    session.add(AuditEntry(user_id=by, action=f"user.{action}", subject=f"user:{user.id}",
                           detail={"email": user.email, **detail}, note=note))


def _changed(session: Session, by: int | None, user: User, action: str, note: str | None, **detail: object) -> None:
    sessions.end_all(user)
    audit(session, by, user, action, note, **detail)


def set_password(session: Session, user: User, password: str, by: int | None, note: str | None = None) -> None:
    """Give ``user`` a new password (stored as an argon2 hash); audit action ``user.set_password``."""
    user.password_hash = hash_password(password)
    _changed(session, by, user, "set_password", note)


def set_role(session: Session, user: User, role: Role, by: int | None, note: str | None = None) -> None:
    """Give ``user`` another role; audit action ``user.set_role`` with the old and new role."""
    old, user.role = user.role, role
    _changed(session, by, user, "set_role", note, old=str(old), new=str(role))


def deactivate(session: Session, user: User, by: int | None, note: str | None = None) -> None:
    """Stop ``user`` signing in and revoke their API tokens; audit action ``user.deactivate``."""
    user.active = False
    revoked = session.execute(delete(ApiToken).where(ApiToken.user_id == user.id)).rowcount
    _changed(session, by, user, "deactivate", note, tokens_revoked=revoked)


def new_token(session: Session, user: User, days: int, scope: TokenScope, by: int | None,
              note: str | None = None) -> str:
    """A new API token of ``user`` (``services.web.auth.issue_token``); audit action ``user.issue_token``."""
    token = issue_token(session, user, days, scope)
    audit(session, by, user, "issue_token", note, prefix=token[:SHOWN_PREFIX], scope=str(scope), days=days)
    return token


def tokens_of(session: Session, user: User) -> list[ApiToken]:
    """Every API token of ``user``, expired ones included, newest first."""
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def revoke_token(session: Session, token_id: int, by: int | None, owner: User | None = None,
                 note: str | None = None) -> ApiToken | None:
    """Revoke (delete) API token ``token_id``, only when it is ``owner``'s if one is given; audit action
    ``user.revoke_token``. The revoked token, or None when there is no such token (of ``owner``)."""
    token = session.get(ApiToken, token_id)
    if token is None or (owner is not None and token.user_id != owner.id):
        return None
    session.delete(token)
    audit(session, by, session.get_one(User, token.user_id), "revoke_token", note, token_id=token_id,
           prefix=token.prefix)
    return token
