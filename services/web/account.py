"""``/account``: the signed-in person's own account — their API tokens, each with a revoke button."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from services.core.db.base import utcnow
from services.core.db.models import User
from services.core.domain import Role
from services.web import accounts
from services.web.auth import require
from services.web.csrf import csrf_protected
from services.web.db import DbSession
from services.web.ids import RowId
from services.web.rendering import page

router = APIRouter(prefix="/account")
#: Every role has an account page.
signed_in = require(*Role)


@router.get("", response_class=HTMLResponse)
def account_page(request: Request, session: DbSession, user: User = Depends(signed_in)) -> HTMLResponse:
    return page(request, "account.html", tokens=accounts.tokens_of(session, user), now=utcnow(),
                flash=request.session.pop("flash", None))


@router.post("/tokens/{token_id}/revoke", dependencies=[Depends(csrf_protected)])
def revoke_token(request: Request, token_id: RowId, session: DbSession,
                 user: User = Depends(signed_in)) -> RedirectResponse:
    """Revoke one of the signed-in person's own tokens (on the audit log); 404 for anyone else's."""
    revoked = accounts.revoke_token(session, token_id, by=user.id, owner=user)
    if revoked is None:
        raise HTTPException(status_code=404, detail="You have no such API token.")
    request.session["flash"] = f"Revoked {revoked.prefix or 'the token'}…; it no longer works."
    return RedirectResponse("/account", status_code=303)
