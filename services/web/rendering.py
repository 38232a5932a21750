"""Rendering pages: the signed-in user and the CSRF field in every template, safe links, HTML errors."""

from __future__ import annotations

import html
from urllib.parse import urlsplit

import nh3
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import HTTPException, RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from markupsafe import Markup
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.core import limits, links
from services.web.auth import current_user
from services.web.csrf import csrf_input, csrf_token


def page(request: Request, name: str, status_code: int = 200, **context: object) -> HTMLResponse:
    return request.app.state.templates.TemplateResponse(
        request, name, {"user": current_user(request), **context}, status_code=status_code
    )


def message(request: Request, title: str, text: str, status_code: int = 200) -> HTMLResponse:
    return page(request, "message.html", status_code, title=title, message=text)


def noted_redirect(request: Request, to: str, note: str) -> RedirectResponse:
    """Post/redirect/get: ``note`` shown once on the next page (the session's flash), and a 303 to ``to``."""
    request.session["flash"] = note
    return RedirectResponse(to, status_code=303)


def safe_url(value: str | None) -> str | None:
    """``value`` when it is an http(s) address, else None: feed text must never become a javascript: link."""
    if not value:
        return None
    try:
        scheme = urlsplit(value.strip()).scheme.lower()
    except ValueError:
        return None
    return value.strip() if scheme in ("http", "https") else None


def plain_text(value: str | None) -> str:
    """Feed HTML as plain text (tags dropped, entities decoded); the template escapes it again on output."""
    if not value:
        return ""
    return " ".join(html.unescape(nh3.clean(value, tags=set())).split())


def percent(value: int | None) -> str:
    """A percentage as pages show it: "75%", or "—" for None (nothing to count yet)."""
    return "—" if value is None else f"{value}%"


def bdi(value: object) -> Markup:
    """Free text (a name, tagline, quote, subject…) escaped inside ``<bdi>``: text in a right-to-left script
    cannot then reorder what stands around it (HTML Living Standard, the bdi element; Unicode UAX #9,
    isolates). Empty text gives an empty ``<bdi>``."""
    return Markup("<bdi>{}</bdi>").format("" if value is None else value)


def versus(a: str, b: str) -> Markup:
    """A comparison's title, "A vs B", with each name isolated (``bdi``): a right-to-left first name cannot
    turn the whole title around."""
    return Markup("{} vs {}").format(bdi(a), bdi(b))


def _wants_html(request: Request) -> bool:
    """Browsers get error pages; the API and clients that do not ask for HTML get JSON."""
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get("accept", "")


def install(app: FastAPI) -> None:
    """Template helpers (``csrf_input``, ``csrf_token``, ``limits`` for form fields' ``maxlength``, ``versus``;
    ``safe_url``, ``plain_text``, ``category_path``, ``percent`` and ``bdi`` filters), HTML error pages (run in the
    thread pool: the page looks the user up)."""
    env = app.state.templates.env
    env.globals["csrf_input"] = csrf_input
    env.globals["csrf_token"] = csrf_token
    env.globals["limits"] = limits
    env.filters["safe_url"] = safe_url
    env.filters["plain_text"] = plain_text
    env.filters["category_path"] = links.category_path
    env.filters["percent"] = percent
    env.filters["bdi"] = bdi
    env.globals["versus"] = versus

    @app.exception_handler(StarletteHTTPException)
    def _error_page(request: Request, exc: HTTPException) -> Response:
        if not _wants_html(request):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        titles = {401: "Sign in needed", 403: "Not allowed", 404: "Not found", 405: "Not allowed", 409: "Conflict"}
        return message(request, titles.get(exc.status_code, "Something is wrong"), str(exc.detail), exc.status_code)

    @app.exception_handler(RequestValidationError)
    def _invalid_form(request: Request, exc: RequestValidationError) -> Response:
        if not _wants_html(request):  # FastAPI's own answer
            return JSONResponse({"detail": jsonable_encoder(exc.errors())}, status_code=422)
        fields = ", ".join(str(error["loc"][-1]) for error in exc.errors() if error.get("loc"))
        return message(request, "Check the form", f"These fields are missing or malformed: {fields}.", 422)
