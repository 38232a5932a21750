"""Domain refusals as HTTP answers, in one place: ``NotFound`` 404, ``Conflict`` 409, ``InvalidInput`` 400.

Handlers let the packages' errors (``services.core.errors`` and their subclasses) propagate; the
transaction rolls back (``services.web.db``) and the handler installed here answers. /api/ routes get
JSON ``{"detail": message}``; pages get the message page, titled for the kind of refusal. A form that
wants its input shown back when it loses a conflict calls ``echo(request, text)`` before acting.
"""

from __future__ import annotations

from typing import TypeVar

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from services.core.errors import Conflict, DomainError, InvalidInput, NotFound
from services.delivery.errors import SubscriberLinkError
from services.review.errors import ReviewConflict, VoteLinkError
from services.web.rendering import message

STATUS: dict[type[DomainError], int] = {NotFound: 404, Conflict: 409, InvalidInput: 400}
#: The page title of a refusal: that of the first class in the error's MRO listed here.
TITLES: dict[type[DomainError], str] = {
    ReviewConflict: "Someone else got there first",
    VoteLinkError: "This link does not work",
    SubscriberLinkError: "This link does not work",
    NotFound: "Not found",
    DomainError: "That did not work",
}
T = TypeVar("T")


def _first(table: dict[type[DomainError], T], exc: DomainError, default: T) -> T:
    return next((table[kind] for kind in type(exc).__mro__ if kind in table), default)


def echo(request: Request, sent: str) -> None:
    """Show ``sent`` (what the person submitted) on the page if this request loses a conflict."""
    request.state.sent = sent


def _refused(request: Request, exc: Exception) -> Response:
    """JSON for /api/, else the message page; run in the thread pool (the page looks the user up)."""
    assert isinstance(exc, DomainError)
    status = _first(STATUS, exc, 400)
    if request.url.path.startswith("/api/"):
        return JSONResponse({"detail": str(exc)}, status_code=status)
    sent = getattr(request.state, "sent", "") if isinstance(exc, Conflict) else ""
    text = str(exc) + (f". What you sent: {sent}" if sent else "")
    return message(request, _first(TITLES, exc, TITLES[DomainError]), text, status)


def install(app: FastAPI) -> None:
    """Answer every ``DomainError`` a handler lets through: 404, 409 or 400, as JSON or as a page."""
    app.add_exception_handler(DomainError, _refused)
