"""``/account/two-factor``: the signed-in person turns two-factor sign-in on (scan, confirm with a code, keep the
recovery codes shown once), gets new recovery codes, or turns it off (with a current code).

These pages stay open to an admin who has yet to enrol while ``VERDICTS_REQUIRE_TWO_FACTOR_FOR_ADMINS`` is on
(every other page sends them here). Wrong codes count as failed sign-ins (``services.web.signin_limits``), so
a stolen session cannot try codes faster than a password guesser. What is stored and how:
``services.web.two_factor_accounts``.
"""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRouter
from sqlalchemy.orm import Session

from services.core.db.models import User
from services.core.domain import Role
from services.web import sessions, signin_limits, two_factor, two_factor_accounts
from services.web.auth import require
from services.web.csrf import csrf_protected
from services.web.db import DbSession
from services.web.login_two_factor import CODE_MAX
from services.web.rendering import page

router = APIRouter(prefix="/account/two-factor")
#: Every role, admins who still have to enrol included.
enrolling = require(*Role, enrolling=True)
#: The code typed: a TOTP code or a recovery code.
Code = Annotated[str, Form(max_length=CODE_MAX)]


def _render(request: Request, session: Session, user: User, status_code: int = 200, *,
            error: str | None = None, codes: list[str] | None = None) -> HTMLResponse:
    """The page for ``user`` as stored in ``session``: enrolled, enrolling (QR and secret), or off."""
    settings = request.app.state.runtime.settings
    secret = two_factor_accounts.pending_secret(settings.secret(), user)
    uri = two_factor.otpauth_uri(secret, user.email) if secret else None
    response = page(request, "account_two_factor.html", status_code, error=error, codes=codes, secret=secret,
                    qr=two_factor.qr_svg(uri) if uri else None, code_max=CODE_MAX,
                    enrolled=two_factor_accounts.enrolled(user),
                    left=two_factor_accounts.recovery_codes_left(session, user),
                    required=settings.require_two_factor_for_admins and user.role is Role.ADMIN)
    response.headers["Cache-Control"] = "no-store"  # it may show a secret or recovery codes
    return response


def _locked(request: Request, session: Session, user: User, now: float) -> HTMLResponse | None:
    """A 429 page with Retry-After while ``user``'s account or the client address is locked, else None."""
    settings = request.app.state.runtime.settings
    client = request.client.host if request.client else "unknown"
    wait = signin_limits.locked_for(settings, user.email, client, now)
    if wait is None:
        return None
    locked = _render(request, session, user, 429, error=f"Too many wrong codes. Try again in {-(-wait // 60)} min.")
    locked.headers["Retry-After"] = str(wait)
    return locked


def _wrong(request: Request, session: Session, user: User, now: float, error: str) -> HTMLResponse:
    """Count a wrong code as a failed sign-in and show the page again with ``error`` (400)."""
    client = request.client.host if request.client else "unknown"
    signin_limits.failed(request.app.state.runtime.settings, user.email, client, now)
    return _render(request, session, user, 400, error=error)


@router.get("", response_class=HTMLResponse)
def two_factor_page(request: Request, session: DbSession, user: User = Depends(enrolling)) -> HTMLResponse:
    return _render(request, session, session.get_one(User, user.id))


@router.post("/start", dependencies=[Depends(csrf_protected)])
def start(request: Request, session: DbSession, user: User = Depends(enrolling)) -> RedirectResponse:
    """Begin (or begin again) enrolment with a new secret; two-factor sign-in stays off until confirmed. Nothing
    changes once it is on (also when another request turned it on meanwhile)."""
    stored = session.get_one(User, user.id)
    try:
        two_factor_accounts.start_enrolment(session, request.app.state.runtime.settings.secret(), stored)
    except ValueError:
        pass  # already on: the page shows that
    return RedirectResponse("/account/two-factor", status_code=303)


@router.post("/confirm", response_model=None, dependencies=[Depends(csrf_protected)])
def confirm(request: Request, session: DbSession, user: User = Depends(enrolling),
            code: Code = "") -> HTMLResponse | RedirectResponse:
    """Turn two-factor sign-in on with a valid code of the new secret; shows the recovery codes once (400 for a
    wrong code, 429 while locked). Other sessions of the person end; this one starts again."""
    now, stored = time.time(), session.get_one(User, user.id)
    if two_factor_accounts.enrolled(stored) or stored.totp_secret is None:
        return RedirectResponse("/account/two-factor", status_code=303)
    locked = _locked(request, session, stored, now)
    if locked is not None:
        return locked
    codes = two_factor_accounts.confirm_enrolment(session, request.app.state.runtime.settings.secret(), stored,
                                                  code, now)
    if codes is None:
        return _wrong(request, session, stored, now, "That code is not right. Check the app's clock and try the "
                                                     "code it shows now.")
    sessions.start(request, stored, now)
    return _render(request, session, stored, codes=codes)


@router.post("/recovery-codes", response_model=None, dependencies=[Depends(csrf_protected)])
def regenerate(request: Request, session: DbSession, user: User = Depends(enrolling),
               code: Code = "") -> HTMLResponse | RedirectResponse:
    """New recovery codes (shown once; the old ones stop working) for a current TOTP or recovery code."""
    now, stored = time.time(), session.get_one(User, user.id)
    if not two_factor_accounts.enrolled(stored):
        return RedirectResponse("/account/two-factor", status_code=303)
    locked = _locked(request, session, stored, now)
    if locked is not None:
        return locked
    codes = two_factor_accounts.regenerate_recovery_codes(session, request.app.state.runtime.settings.secret(),
                                                          stored, code, now)
    if codes is None:
        return _wrong(request, session, stored, now, "That code is not right; the recovery codes did not change.")
    return _render(request, session, stored, codes=codes)


@router.post("/disable", response_model=None, dependencies=[Depends(csrf_protected)])
def disable(request: Request, session: DbSession, user: User = Depends(enrolling),
            code: Code = "") -> HTMLResponse | RedirectResponse:
    """Turn two-factor sign-in off with a current TOTP or recovery code; refused (400) for an admin while the
    setting requires it. Other sessions of the person end; this one starts again."""
    now, stored = time.time(), session.get_one(User, user.id)
    if not two_factor_accounts.enrolled(stored):
        return RedirectResponse("/account/two-factor", status_code=303)
    if stored.role is Role.ADMIN and request.app.state.runtime.settings.require_two_factor_for_admins:
        return _render(request, session, stored, 400, error="Admins must keep two-factor sign-in on here.")
    locked = _locked(request, session, stored, now)
    if locked is not None:
        return locked
    if not two_factor_accounts.disable(session, request.app.state.runtime.settings.secret(), stored, code, now):
        return _wrong(request, session, stored, now, "That code is not right; two-factor sign-in is still on.")
    sessions.start(request, stored, now)
    request.session["flash"] = "Two-factor sign-in is off."
    return RedirectResponse("/account", status_code=303)
