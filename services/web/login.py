"""Signing in and out."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from services.web.auth import authenticate
from services.web.rendering import page

router = APIRouter()


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/editor/queue") -> HTMLResponse:
    return page(request, "login.html", next=next, error=None)


@router.post("/login", response_model=None)
def login(request: Request, email: str = Form(""), password: str = Form(""),
          next: str = Form("/editor/queue")) -> HTMLResponse | RedirectResponse:
    with request.app.state.runtime.sessions() as session:
        user = authenticate(session, email, password)
    if user is None:
        return page(request, "login.html", 401, next=next, error="Wrong email or password.")
    request.session.clear()
    request.session["user_id"] = user.id
    target = next if next.startswith("/") and not next.startswith("//") else "/editor/queue"
    return RedirectResponse(target, status_code=303)


@router.post("/logout")
def logout(request: Request) -> RedirectResponse:
    request.session.clear()
    return RedirectResponse("/", status_code=303)
