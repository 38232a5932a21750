"""Sign-in: argon2 password hashes, a signed session cookie, and role checks for routes."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import HTTPException, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.core.db.models import User
from services.core.domain import Role
from services.core.passwords import verify_password


class LoginRequired(Exception):
    """Raised by a page guard; the app answers with a redirect to /login."""


def authenticate(session: Session, email: str, password: str) -> User | None:
    user = session.scalar(select(User).where(User.email == email.strip().lower(), User.active))
    # verify_password does the same work for unknown addresses, so timing does not reveal which exist
    if not verify_password(user.password_hash if user else None, password):
        return None
    return user


def current_user(request: Request) -> User | None:
    user_id = request.session.get("user_id")
    if user_id is None:
        return None
    with request.app.state.runtime.sessions() as session:
        user = session.get(User, user_id)
    return user if user is not None and user.active else None


def require(*roles: Role) -> Callable[[Request], User]:
    """A dependency that lets in signed-in users holding one of ``roles`` (admins always)."""
    allowed = {role.value for role in roles} | {Role.ADMIN.value}

    def guard(request: Request) -> User:
        user = current_user(request)
        if user is None:
            raise LoginRequired()
        if user.role not in allowed:
            raise HTTPException(status_code=403, detail="your role does not allow this page")
        return user

    return guard
