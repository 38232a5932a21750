"""Sign-in and access: argon2 passwords, the session cookie, API tokens, and role checks for routes.

Pages use ``require(Role.X)``; anonymous visitors are sent to /login, other roles get 403.
The JSON API uses ``require_api(Role.X)`` with ``Authorization: Bearer <token>``: 401 without a
valid, unexpired token of an active user, 403 for other roles and for a read-only token on anything but a
read. Admins pass every check. Each guard carries the roles it lets in
(``guard.roles``), which the route-table test reads to prove every private route is guarded.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import time
from collections.abc import Callable

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.core.addresses import InvalidAddress, identity
from services.core.db.base import utcnow
from services.core.db.models import ApiToken, User
from services.core.domain import Role, TokenScope
from services.core.passwords import verify_password
from services.web import sessions

TOKEN_PREFIX = "vdt_"
#: How much of a token listings show: the fixed prefix and 8 random characters (48 of its 256 bits).
SHOWN_PREFIX = len(TOKEN_PREFIX) + 8
#: What a read-only token may call (RFC 9110 §9.2.1: the safe methods).
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_UNSET = object()
#: Reads `Authorization: Bearer …` and documents the scheme in the OpenAPI schema.
_BEARER = HTTPBearer(auto_error=False, description="a token printed by `verdicts users token EMAIL`")


class LoginRequired(Exception):
    """Raised by a page guard; the app answers with a redirect to /login."""


class TwoFactorEnrolmentRequired(Exception):
    """Raised by a page guard for an admin without two-factor sign-in while
    ``VERDICTS_REQUIRE_TWO_FACTOR_FOR_ADMINS`` is on; the app answers with a redirect to the enrolment page."""


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
    ask for it too, outside any handler. The cookie's session is checked on the server every time
    (``services.web.sessions.is_live``): None for an ended, expired or idle session.
    """
    cached = getattr(request.state, "user", _UNSET)
    if cached is not _UNSET:
        return cached  # type: ignore[no-any-return]
    user_id = sessions.signed_in_id(request.session)
    user = None
    if user_id is not None:
        with request.app.state.runtime.sessions() as session:
            user = session.get(User, user_id)
        now = time.time()
        if sessions.is_live(request.session, user, request.app.state.runtime.settings, now):
            sessions.touch(request, now)
        else:
            request.session.clear()  # ended or expired: the browser gets an anonymous cookie back
            user = None
    request.state.user = user
    return user


def _allowed(roles: tuple[Role, ...]) -> frozenset[Role]:
    return frozenset({*roles, Role.ADMIN})


def require(*roles: Role, enrolling: bool = False) -> Callable[[Request], User]:
    """A page dependency that lets in signed-in users holding one of ``roles`` (admins always).

    While ``VERDICTS_REQUIRE_TWO_FACTOR_FOR_ADMINS`` is on, an admin without two-factor sign-in is sent to
    enrol first (``TwoFactorEnrolmentRequired``) by every guard but the enrolment pages' (``enrolling``).
    """
    allowed = _allowed(roles)

    def guard(request: Request) -> User:
        user = current_user(request)
        if user is None:
            raise LoginRequired()
        if user.role not in allowed:
            raise HTTPException(status_code=403, detail="Your role does not allow this page.")
        if (not enrolling and user.role is Role.ADMIN and user.two_factor_at is None
                and request.app.state.runtime.settings.require_two_factor_for_admins):
            raise TwoFactorEnrolmentRequired()
        return user

    guard.roles = allowed  # type: ignore[attr-defined]
    return guard


def hash_token(token: str) -> str:
    """API tokens are long random strings, so a plain SHA-256 is enough to store them safely."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, user: User, days: int, scope: TokenScope = TokenScope.FULL) -> str:
    """A new API token for ``user`` that works for ``days`` (``VERDICTS_API_TOKEN_DAYS`` at the command line)
    with ``scope``; only its hash and its first characters are stored, the token is shown once."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_hash=hash_token(token), prefix=token[:SHOWN_PREFIX], scope=scope,
                         expires_at=utcnow() + dt.timedelta(days=days)))
    session.flush()
    return token


def token_user(session: Session, token: str) -> tuple[User, TokenScope] | None:
    """The active user an unexpired ``token`` belongs to, and the token's scope; records the token's use.

    None for an unknown, revoked (deleted) or expired token, or an inactive user's.
    """
    now = utcnow()
    row = session.execute(select(ApiToken, User).join(User, User.id == ApiToken.user_id)
                          .where(ApiToken.token_hash == hash_token(token), ApiToken.expires_at > now,
                                 User.active)).first()
    if row is None:
        return None
    api_token, user = row
    api_token.last_used_at = now
    return user, api_token.scope


def require_api(*roles: Role) -> Callable[[Request], User]:
    """An API dependency: a valid Bearer token of a user holding one of ``roles`` (admins always)."""
    allowed = _allowed(roles)

    def guard(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_BEARER)) -> User:
        if credentials is None or not credentials.credentials.strip():
            raise HTTPException(401, "send Authorization: Bearer <token>", headers={"WWW-Authenticate": "Bearer"})
        # A transaction of its own, not the handler's: the token's last use is recorded even when the
        # request is then refused or fails.
        with request.app.state.runtime.sessions() as session, session.begin():
            found = token_user(session, credentials.credentials.strip())
        if found is None:
            raise HTTPException(401, "unknown, expired or revoked token", headers={"WWW-Authenticate": "Bearer"})
        user, scope = found
        if user.role not in allowed:
            raise HTTPException(403, "your role does not allow this endpoint")
        if scope is TokenScope.READ and request.method not in READ_METHODS:
            raise HTTPException(403, "this token is read-only")
        return user

    guard.roles = allowed  # type: ignore[attr-defined]
    return guard
