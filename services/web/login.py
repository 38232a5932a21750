"""Signing in and out."""

from __future__ import annotations

import time

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from services.core import limits
from services.core.db.models import User
from services.core.domain import Role
from services.web import login_two_factor, sessions, signin_limits, two_factor_accounts
from services.web.auth import authenticate, current_user
from services.web.csrf import csrf_protected
from services.web.db import DbSession
from services.web.rendering import page

router = APIRouter()

#: Where each role lands after signing in when no page was asked for.
HOME = {Role.REVIEWER: "/editor/panel", Role.OPS: "/ops"}


def landing(user: User, next: str) -> str:
    """Where ``user`` lands after signing in (a password or single sign-on): ``next`` when it is a path on this
    site (one leading ``/``, no ``\\``: never another host), else their role's home page."""
    local = next.startswith("/") and not next.startswith("//") and "\\" not in next
    return next if local else HOME.get(user.role, "/editor/queue")


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "") -> HTMLResponse:
    return page(request, "login.html", next=next, error=None)


@router.post("/login", response_model=None, dependencies=[Depends(csrf_protected)])
def login(request: Request, session: DbSession, email: str = Form("", max_length=limits.EMAIL),
          password: str = Form("", max_length=limits.PASSWORD),
          next: str = Form("", max_length=limits.URL)) -> HTMLResponse | RedirectResponse:
    """Sign in; 429 with Retry-After while the account or the client address is locked
    (``services.web.signin_limits``), 401 for a wrong email or password."""
    settings, now = request.app.state.runtime.settings, time.time()
    client = request.client.host if request.client else "unknown"
    wait = signin_limits.locked_for(settings, email, client, now)
    if wait is not None:
        locked = page(request, "login.html", 429, next=next,
                      error=f"Too many failed sign-ins. Try again in {-(-wait // 60)} min.")
        locked.headers["Retry-After"] = str(wait)
        return locked
    user = authenticate(session, email, password)
    if user is None:
        signin_limits.failed(settings, email, client, now)
        return page(request, "login.html", 401, next=next, error="Wrong email or password.")
    target = landing(user, next)
    if two_factor_accounts.enrolled(user):  # no session until the second step (services/web/login_two_factor.py)
        return login_two_factor.ask(request, user, target, now)
    sessions.start(request, user, now)
    return RedirectResponse(target, status_code=303)


@router.post("/logout", dependencies=[Depends(csrf_protected)])
def logout(request: Request, session: DbSession) -> RedirectResponse:
    """Sign out: ends every session of the signed-in user, in every browser (a copied cookie included)."""
    user = current_user(request)
    if user is not None:
        sessions.end_all(session.get_one(User, user.id))
    request.session.clear()
    return RedirectResponse("/", status_code=303)
