"""Staff sessions, checked on the server on every request.

The signed session cookie (Starlette's SessionMiddleware, itsdangerous) names the user, the user's
session generation at sign-in, the sign-in time and the time of the last request. A cookie is good
only while its generation is the user's current one, so bumping ``User.session_generation`` (sign-out,
a new password, a new role, deactivation: ``services/web/accounts.py``) ends every session of that
user at once, copies of the cookie included. A session also ends ``session_lifetime_seconds`` after
sign-in and after ``session_idle_seconds`` without a request (OWASP Session Management Cheat Sheet:
absolute and idle timeouts).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import object_session
from starlette.requests import Request

from services.core.db.models import User
from services.core.settings import Settings

USER = "user_id"
GENERATION = "generation"
SINCE = "since"
SEEN = "seen"


def start(request: Request, user: User, now: float) -> None:
    """Begin a fresh session for ``user`` (a new CSRF token too: no session fixation), at ``now`` (epoch seconds)."""
    request.session.clear()
    request.session.update({USER: user.id, GENERATION: user.session_generation, SINCE: int(now), SEEN: int(now)})


def end_all(user: User) -> None:
    """End every session ``user`` has, in every browser, when the caller's transaction commits. The increment is
    done by the database (``SET session_generation = session_generation + 1``), so two changes committed at once
    both count: neither can overwrite the other's with the value it read."""
    user.session_generation = User.session_generation + 1
    session = object_session(user)
    if session is not None:
        session.flush()  # the new value is read back on next use (a session started again for the caller)


def signed_in_id(values: Mapping[str, Any]) -> int | None:
    """The user id a cookie's session claims, not yet checked; None for an anonymous one."""
    user_id = values.get(USER)
    return user_id if isinstance(user_id, int) else None


def is_live(values: Mapping[str, Any], user: User | None, settings: Settings, now: float) -> bool:
    """Whether a cookie's session ``values`` still sign ``user`` in at ``now`` (epoch seconds).

    False when the user is gone or inactive, when the generation is not the user's current one, past
    the session lifetime since sign-in, or past the idle timeout since the last request.
    """
    since, seen = values.get(SINCE), values.get(SEEN)
    return (user is not None and user.active
            and values.get(GENERATION) == user.session_generation
            and isinstance(since, int) and isinstance(seen, int)
            and now - since < settings.session_lifetime_seconds
            and now - seen < settings.session_idle_seconds)


def touch(request: Request, now: float) -> None:
    """Record a request of a live session at ``now``: the idle timeout counts from here."""
    request.session[SEEN] = int(now)
