"""Which staff account a single sign-on opens, whether the issuer's sign-in already counts as two factors, and
how the sign-in is written to the audit log.

The rules are ours, not the issuer's. An ID token opens the account of an existing, active person whose
address equals its ``email`` claim, and only when its ``email_verified`` claim is the JSON ``true``
(OpenID Connect Core 1.0 §5.1, §5.7: an unverified address proves nothing about who holds it). Single
sign-on never creates a person and never changes a role: both stay with ``verdicts users``. The claims
given here have already been verified (signature, iss, aud, exp, nonce: ``services.web.oidc``).
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.orm import Session

from services.core.db.models import AuditEntry, User
from services.web.auth import active_user

#: The ``amr`` value (RFC 8176 §2) by which an issuer says the person showed more than one factor.
MULTI_FACTOR = "mfa"


class Refused(Exception):
    """An ID token that opens no account; ``str(exc)`` says why, in words for the person signing in."""


def staff_account(session: Session, claims: Mapping[str, object]) -> User:
    """The active person a verified ID token's ``claims`` (a mapping of claim names to JSON values) signs in.

    Raises ``Refused`` when the token carries no email, when ``email_verified`` is not ``true``, or when no
    active person has that address (any case or IDN spelling of it: ``services.web.auth.active_user``).
    """
    email = claims.get("email")
    if not isinstance(email, str) or not email.strip():
        raise Refused("The identity provider did not share your email address, so no account can be matched.")
    if claims.get("email_verified") is not True:
        raise Refused(f"The identity provider has not verified the address {email}, so it cannot open an account "
                      "here. Verify it there, then try again.")
    user = active_user(session, email)
    if user is None:
        raise Refused(f"No active staff account has the address {email}. An admin adds people with "
                      "`verdicts users add`; single sign-on does not create accounts.")
    return user


def issuer_checked_two_factors(claims: Mapping[str, object]) -> bool:
    """Whether the ID token says the issuer itself asked for more than one factor: its ``amr`` claim (a JSON
    array of strings, OpenID Connect Core 1.0 §2) holds ``"mfa"`` (RFC 8176 §2)."""
    amr = claims.get("amr")
    return isinstance(amr, list) and MULTI_FACTOR in amr


def record_sign_in(session: Session, user: User, claims: Mapping[str, object], issuer: str | None,
                   second_step: bool) -> None:
    """Write ``user.sso_sign_in`` to the audit log in the caller's transaction: the person, the issuer, the
    token's subject (``sub``), whether the issuer checked two factors, and whether our own TOTP step is still
    asked before the session starts (``second_step``)."""
    session.add(AuditEntry(user_id=user.id, action="user.sso_sign_in", subject=f"user:{user.id}",
                           detail={"email": user.email, "issuer": issuer, "sub": claims.get("sub"),
                                   "issuer_two_factors": issuer_checked_two_factors(claims),
                                   "second_step": second_step}))
