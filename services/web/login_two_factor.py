"""Sign-in's second step for people with two-factor sign-in: a TOTP code or a recovery code after the password.

After the right password, ``ask`` puts only a pending mark in the session cookie — who, at which session
generation, since when, and where to go next — and no session: ``services.web.auth.current_user`` reads
the signed-in user from another key, so the half-signed-in state opens nothing. The mark lasts
``PENDING_SECONDS``; a new password, a new role or deactivation in the meantime (a new session generation)
voids it. Wrong codes count as failed sign-ins of the account and the client address
(``services.web.signin_limits``): the same lock, 429 with Retry-After, covers both steps.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from services.core.db.models import User
from services.web import sessions, signin_limits, two_factor_accounts
from services.web.csrf import csrf_protected
from services.web.db import DbSession
from services.web.rendering import page

router = APIRouter()

PATH = "/login/two-factor"
#: How long the password step stays good for the second one.
PENDING_SECONDS = 300
_PENDING = "two_factor_pending"
#: The longest second factor typed: a recovery code with room for spaces.
CODE_MAX = 40


def ask(request: Request, user: User, target: str, now: float) -> RedirectResponse:
    """After ``user``'s right password at ``now`` (epoch seconds): clear the session, mark the sign-in pending,
    and send the browser to the second step; ``target`` is the local path to land on afterwards."""
    request.session.clear()
    request.session[_PENDING] = {"user": user.id, "generation": user.session_generation, "since": int(now),
                                 "next": target}
    return RedirectResponse(PATH, status_code=303)


def _pending(request: Request, session: Session, now: float) -> tuple[User, str] | None:
    """The user whose sign-in waits for its second step, and where they land; None when nothing (still) waits."""
    mark: Any = request.session.get(_PENDING)
    if not isinstance(mark, dict) or not isinstance(mark.get("user"), int) or not isinstance(mark.get("since"), int):
        return None
    user = session.get(User, mark["user"])
    if (user is None or not user.active or not two_factor_accounts.enrolled(user)
            or mark.get("generation") != user.session_generation or not 0 <= now - mark["since"] < PENDING_SECONDS):
        request.session.pop(_PENDING, None)
        return None
    target = mark.get("next")
    return user, target if isinstance(target, str) else "/"


@router.get(PATH, response_model=None)
def second_step_form(request: Request, session: DbSession) -> HTMLResponse | RedirectResponse:
    if _pending(request, session, time.time()) is None:
        return RedirectResponse("/login", status_code=303)
    return page(request, "login_two_factor.html", error=None, code_max=CODE_MAX)


@router.post(PATH, response_model=None, dependencies=[Depends(csrf_protected)])
def second_step(request: Request, session: DbSession,
                code: str = Form("", max_length=CODE_MAX)) -> HTMLResponse | RedirectResponse:
    """Finish a pending sign-in with a TOTP or recovery code: the session starts only now. 429 with Retry-After
    while the account or the client address is locked, 401 for a wrong code; back to /login when nothing waits."""
    settings, now = request.app.state.runtime.settings, time.time()
    pending = _pending(request, session, now)
    if pending is None:
        return RedirectResponse("/login", status_code=303)
    user, target = pending
    client = request.client.host if request.client else "unknown"
    wait = signin_limits.locked_for(settings, user.email, client, now)
    if wait is not None:
        locked = page(request, "login_two_factor.html", 429, code_max=CODE_MAX,
                      error=f"Too many failed sign-ins. Try again in {-(-wait // 60)} min.")
        locked.headers["Retry-After"] = str(wait)
        return locked
    if two_factor_accounts.check_second_factor(session, settings.secret(), user, code, now) is None:
        signin_limits.failed(settings, user.email, client, now)
        return page(request, "login_two_factor.html", 401, code_max=CODE_MAX,
                    error="That code is not right.")
    sessions.start(request, user, now)
    return RedirectResponse(target, status_code=303)
