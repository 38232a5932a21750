"""Rendering a page with the signed-in user in its context."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from services.web.auth import current_user


def page(request: Request, name: str, status_code: int = 200, **context: object) -> HTMLResponse:
    return request.app.state.templates.TemplateResponse(
        request, name, {"user": current_user(request), **context}, status_code=status_code
    )


def message(request: Request, title: str, text: str, status_code: int = 200) -> HTMLResponse:
    return page(request, "message.html", status_code, title=title, message=text)
