"""Public pages: the index of comparisons, a comparison, a tool, subscribing and confirming."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select

from services.core.db.models import Tool, Verdict
from services.core.tokens import TokenError
from services.digest import subscribers
from services.review import comparisons
from services.review.votes import community_percent
from services.web.auth import authenticate, current_user

router = APIRouter()


def _page(request: Request, name: str, status_code: int = 200, **context: object) -> HTMLResponse:
    return request.app.state.templates.TemplateResponse(
        request, name, {"user": current_user(request), **context}, status_code=status_code
    )


@router.get("/", response_class=HTMLResponse)
def index(request: Request) -> HTMLResponse:
    with request.app.state.runtime.sessions() as session:
        views = [comparisons.view(session, c) for c in comparisons.published(session)]
    return _page(request, "index.html", comparisons=views)


@router.get("/c/{slug}", response_class=HTMLResponse)
def comparison_page(request: Request, slug: str) -> HTMLResponse:
    with request.app.state.runtime.sessions() as session:
        found = comparisons.by_slug(session, slug)
        if found is None or found.state != "published":
            return _page(request, "message.html", 404, title="Not found", message="No comparison by that name.")
        view = comparisons.view(session, found)
    return _page(request, "comparison.html", c=view, base_url=request.app.state.runtime.settings.public_url)


@router.get("/t/{slug}", response_class=HTMLResponse)
def tool_page(request: Request, slug: str) -> HTMLResponse:
    with request.app.state.runtime.sessions() as session:
        tool = session.scalar(select(Tool).where(Tool.slug == slug, Tool.state == "approved"))
        if tool is None:
            return _page(request, "message.html", 404, title="Not found", message="No tool by that name.")
        verdict = session.scalar(select(Verdict).where(Verdict.tool_id == tool.id))
        community = community_percent(session, [tool.id])[tool.id]
    return _page(request, "tool.html", tool=tool, verdict=verdict, community=community)


@router.post("/subscribe", response_class=HTMLResponse)
def subscribe(request: Request, email: str = Form("")) -> HTMLResponse:
    try:
        address = validate_email(email, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        return _page(request, "message.html", 400, title="Check the address", message=str(exc))
    subscribers.subscribe(request.app.state.runtime, address)
    # The same answer for new, pending and confirmed addresses: nothing to learn about who is subscribed.
    return _page(request, "message.html", title="Check your inbox",
                 message="If the address can receive mail, a confirmation link is on its way.")


@router.get("/confirm/{token}", response_class=HTMLResponse)
def confirm(request: Request, token: str) -> HTMLResponse:
    try:
        subscribers.confirm(request.app.state.runtime, token)
    except TokenError as exc:
        return _page(request, "message.html", 400, title="This link does not work", message=str(exc))
    return _page(request, "message.html", title="You're in", message="Your subscription is confirmed.")


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/editor/queue") -> HTMLResponse:
    return _page(request, "login.html", next=next, error=None)


@router.post("/login", response_model=None)
def login(request: Request, email: str = Form(""), password: str = Form(""),
          next: str = Form("/editor/queue")) -> HTMLResponse | RedirectResponse:
    with request.app.state.runtime.sessions() as session:
        user = authenticate(session, email, password)
    if user is None:
        return _page(request, "login.html", 401, next=next, error="Wrong email or password.")
    request.session.clear()
    request.session["user_id"] = user.id
    target = next if next.startswith("/") and not next.startswith("//") else "/editor/queue"
    return RedirectResponse(target, status_code=303)


@router.post("/logout")
def logout(request: Request) -> RedirectResponse:
    request.session.clear()
    return RedirectResponse("/", status_code=303)
