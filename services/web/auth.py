"""Sign-in and access: argon2 passwords, the session cookie, API tokens, and role checks for routes.

Pages use ``require(Role.X)``; anonymous visitors are sent to /login, other roles get 403.
The JSON API uses ``require_api(Role.X)`` with ``Authorization: Bearer <token>``: 401 without a
valid token, 403 for other roles. Admins pass every check. Each guard carries the roles it lets in
(``guard.roles``), which the route-table test reads to prove every private route is guarded.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.core.addresses import InvalidAddress, identity
from services.core.db.base import utcnow
from services.core.db.models import ApiToken, User
from services.core.domain import Role
from services.core.passwords import verify_password

TOKEN_PREFIX = "vdt_"
_UNSET = object()
#: Reads `Authorization: Bearer …` and documents the scheme in the OpenAPI schema.
_BEARER = HTTPBearer(auto_error=False, description="a token printed by `verdicts users token EMAIL`")


class LoginRequired(Exception):
    """Raised by a page guard; the app answers with a redirect to /login."""


def active_user(session: Session, email: str) -> User | None:
    """The active user an address names (any case or IDN spelling of it); None for none or a non-address."""
    try:
        address = identity(email)
    except InvalidAddress:
        return None
    return session.scalar(select(User).where(User.email == address, User.active))


def authenticate(session: Session, email: str, password: str) -> User | None:
    user = active_user(session, email)
    # verify_password does the same work for unknown addresses, so timing does not reveal which exist
    if not verify_password(user.password_hash if user else None, password):
        return None
    return user


def current_user(request: Request) -> User | None:
    """The signed-in user of this request (looked up once per request).

    Looked up in a session of its own, not the handler's ``DbSession``: page rendering and error pages
    ask for it too, outside any handler.
    """
    cached = getattr(request.state, "user", _UNSET)
    if cached is not _UNSET:
        return cached  # type: ignore[no-any-return]
    user_id = request.session.get("user_id")
    user = None
    if user_id is not None:
        with request.app.state.runtime.sessions() as session:
            found = session.get(User, user_id)
        user = found if found is not None and found.active else None
    request.state.user = user
    return user


def _allowed(roles: tuple[Role, ...]) -> frozenset[Role]:
    return frozenset({*roles, Role.ADMIN})


def require(*roles: Role) -> Callable[[Request], User]:
    """A page dependency that lets in signed-in users holding one of ``roles`` (admins always)."""
    allowed = _allowed(roles)

    def guard(request: Request) -> User:
        user = current_user(request)
        if user is None:
            raise LoginRequired()
        if user.role not in allowed:
            raise HTTPException(status_code=403, detail="Your role does not allow this page.")
        return user

    guard.roles = allowed  # type: ignore[attr-defined]
    return guard


def hash_token(token: str) -> str:
    """API tokens are long random strings, so a plain SHA-256 is enough to store them safely."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, user: User) -> str:
    """A new API token for ``user``; only its hash is stored, the token is shown once."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_hash=hash_token(token)))
    session.flush()
    return token


def token_user(session: Session, token: str) -> User | None:
    row = session.execute(select(ApiToken, User).join(User, User.id == ApiToken.user_id)
                          .where(ApiToken.token_hash == hash_token(token), User.active)).first()
    if row is None:
        return None
    api_token, user = row
    api_token.last_used_at = utcnow()
    return user  # type: ignore[no-any-return]


def require_api(*roles: Role) -> Callable[[Request], User]:
    """An API dependency: a valid Bearer token of a user holding one of ``roles`` (admins always)."""
    allowed = _allowed(roles)

    def guard(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_BEARER)) -> User:
        if credentials is None or not credentials.credentials.strip():
            raise HTTPException(401, "send Authorization: Bearer <token>", headers={"WWW-Authenticate": "Bearer"})
        # A transaction of its own, not the handler's: the token's last use is recorded even when the
        # request is then refused or fails.
        with request.app.state.runtime.sessions() as session, session.begin():
            user = token_user(session, credentials.credentials.strip())
        if user is None:
            raise HTTPException(401, "unknown or revoked token", headers={"WWW-Authenticate": "Bearer"})
        if user.role not in allowed:
            raise HTTPException(403, "your role does not allow this endpoint")
        return user

    guard.roles = allowed  # type: ignore[attr-defined]
    return guard
