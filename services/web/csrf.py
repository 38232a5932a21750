"""CSRF protection for every state-changing HTML form.

One random token per browser session lives in the signed session cookie; every POST form carries
it in a hidden field and the ``csrf_protected`` dependency compares the two in constant time. A
forged cross-site form cannot read the token, so it cannot send it. (JSON API calls authenticate
with a Bearer token instead of the cookie and need no CSRF token.)

How to use it:

- in a template, inside each ``<form method="post">``: ``{{ csrf_input(request) }}``
  (a global of the app's Jinja environment, installed by ``services.web.rendering.install``);
- on the route: ``@router.post("/path", dependencies=[Depends(csrf_protected)])``.

Scripts and JavaScript may send the token in the ``X-CSRF-Token`` header instead of the form.
"""

from __future__ import annotations

import secrets

from fastapi import HTTPException, Request
from markupsafe import Markup, escape

SESSION_KEY = "csrf"
FIELD = "csrf_token"
HEADER = "x-csrf-token"


def csrf_token(request: Request) -> str:
    """This session's token, created on first use."""
    token = request.session.get(SESSION_KEY)
    if not token:
        token = secrets.token_urlsafe(32)
        request.session[SESSION_KEY] = token
    return token


def csrf_input(request: Request) -> Markup:
    """The hidden form field that carries the token."""
    return Markup(f'<input type="hidden" name="{FIELD}" value="{escape(csrf_token(request))}">')


async def csrf_protected(request: Request) -> None:
    """Refuse (403) a state-changing request whose token is missing or does not match the session's."""
    expected = request.session.get(SESSION_KEY)
    sent = request.headers.get(HEADER)
    if sent is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            value = (await request.form()).get(FIELD)
            sent = value if isinstance(value, str) else None
    if not expected or not sent or not secrets.compare_digest(expected, sent):
        raise HTTPException(status_code=403, detail="The form expired or came from another site. "
                                                    "Go back, reload the page and try again.")
