"""Signing in and out."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from services.core.domain import Role
from services.web.auth import authenticate
from services.web.csrf import csrf_protected
from services.web.db import DbSession
from services.web.rendering import page

router = APIRouter()

#: Where each role lands after signing in when no page was asked for.
HOME = {Role.REVIEWER: "/editor/panel", Role.OPS: "/ops"}


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "") -> HTMLResponse:
    return page(request, "login.html", next=next, error=None)


@router.post("/login", response_model=None, dependencies=[Depends(csrf_protected)])
def login(request: Request, session: DbSession, email: str = Form(""), password: str = Form(""),
          next: str = Form("")) -> HTMLResponse | RedirectResponse:
    user = authenticate(session, email, password)
    if user is None:
        return page(request, "login.html", 401, next=next, error="Wrong email or password.")
    request.session.clear()  # a fresh session (and CSRF token) on every sign-in: no session fixation
    request.session["user_id"] = user.id
    local = next.startswith("/") and not next.startswith("//") and "\\" not in next
    return RedirectResponse(next if local else HOME.get(user.role, "/editor/queue"), status_code=303)


@router.post("/logout", dependencies=[Depends(csrf_protected)])
def logout(request: Request) -> RedirectResponse:
    request.session.clear()
    return RedirectResponse("/", status_code=303)
