"""A person's two-factor sign-in, stored: enrolment, the second step's check, disabling, new recovery codes
and an admin's reset (``services.web.two_factor`` makes and checks the codes).

Enrolment has two steps: ``start_enrolment`` stores a new sealed secret with ``User.two_factor_at`` still
None (two-factor sign-in stays off), and ``confirm_enrolment`` turns it on only for a valid code of that
secret. Turning it on or off ends every session of the person (``services.web.sessions.end_all``): the
caller starts the current one again. Every change is on the audit log (``services.web.accounts.audit``):
``user.enable_two_factor``, ``user.disable_two_factor``, ``user.regenerate_recovery_codes``,
``user.use_recovery_code`` and ``user.reset_two_factor``.

Each code is accepted once, also when the same code arrives in several requests at the same moment (RFC 6238
§5.2 for TOTP; a recovery code is single-use by definition). The checks read, then every change they decide
on is written with a condition that what was read still holds — the TOTP step is later than the last one
used, the recovery code (its row and its hash) is unused, enrolment is (or is not yet) confirmed, the secret
is the one checked — and counts only when the database changed exactly one row (``_update_if``). On
PostgreSQL ``_lock_user`` first takes the person's row (``FOR NO KEY UPDATE``), so concurrent requests of one
person write one after the other, each seeing what the one before committed (READ COMMITTED), and always
lock the user row before recovery codes: they cannot deadlock. SQLite has no row locks; it lets one writer
in at a time, and the sqlite3 module begins the transaction only at the first write, which then sees what
the writer before committed.
"""

from __future__ import annotations

import logging
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, delete, func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from services.core.db.base import utcnow
from services.core.db.models import RecoveryCode, User
from services.web import sessions, two_factor
from services.web.accounts import audit

log = logging.getLogger(__name__)


def enrolled(user: User) -> bool:
    """Whether ``user`` signs in with a second factor (enrolment confirmed)."""
    return user.two_factor_at is not None


def _lock_user(session: Session, user: User) -> None:
    """Hold ``user``'s row until the transaction ends (PostgreSQL ``SELECT … FOR NO KEY UPDATE``, which still lets
    other rows reference it; SQLAlchemy leaves the clause out on SQLite). Taken before any write here."""
    session.execute(select(User.id).where(User.id == user.id).with_for_update(key_share=True))


def _update_if(session: Session, row: User | RecoveryCode, *still: ColumnElement[bool], **values: object) -> bool:
    """Write ``values`` (column name -> value) to ``row`` only where every condition in ``still`` holds in the
    database now; True when it did (``row`` in memory then carries them too), False when another transaction
    changed the row (or removed it) since it was read, and nothing was written."""
    model = type(row)
    statement = update(model).where(model.id == row.id, *still).values(**values)
    result = cast(CursorResult[Any], session.execute(statement, execution_options={"synchronize_session": False}))
    if result.rowcount != 1:
        return False
    for name, value in values.items():
        set_committed_value(row, name, value)
    return True


def start_enrolment(session: Session, secret_key: str, user: User) -> str:
    """Give ``user``, not yet enrolled, a new TOTP secret (stored sealed) and return it in the clear to show once
    more on the enrolment page; raises ValueError when ``user`` is already enrolled (also when an enrolment
    was confirmed since ``user`` was read: its secret is kept)."""
    if enrolled(user):
        raise ValueError("two-factor sign-in is already on")
    secret = two_factor.new_secret()
    _lock_user(session, user)
    if not _update_if(session, user, User.two_factor_at.is_(None),
                      totp_secret=two_factor.seal(secret_key, secret), totp_last_step=None):
        raise ValueError("two-factor sign-in is already on")
    return secret


def pending_secret(secret_key: str, user: User) -> str | None:
    """The TOTP secret of ``user``'s unconfirmed enrolment; None when there is none (or it no longer opens)."""
    if enrolled(user) or user.totp_secret is None:
        return None
    try:
        return two_factor.unseal(secret_key, user.totp_secret)
    except two_factor.SecretUnreadable:
        return None


def _totp_step(secret_key: str, user: User, code: str, now: float) -> int | None:
    if user.totp_secret is None:
        return None
    try:
        secret = two_factor.unseal(secret_key, user.totp_secret)
    except two_factor.SecretUnreadable:
        log.warning("the two-factor secret of user %s does not open with this secret key", user.id)
        return None
    return two_factor.accepted_step(secret, code, now, user.totp_last_step)


def _new_recovery_codes(session: Session, user: User) -> list[str]:
    """Replace ``user``'s recovery codes with ``two_factor.RECOVERY_CODES`` new ones, returned in the clear."""
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = two_factor.new_recovery_codes()
    session.add_all(RecoveryCode(user_id=user.id, code_hash=two_factor.hash_recovery_code(code)) for code in codes)
    return codes


def confirm_enrolment(session: Session, secret_key: str, user: User, code: str, now: float) -> list[str] | None:
    """Turn two-factor sign-in on for ``user`` when ``code`` is a valid TOTP code (at ``now``, epoch seconds) of
    the pending secret; returns the new recovery codes (to show once), None when the code is wrong or no
    enrolment is pending — also when another request confirmed it, or started a new one, since ``user`` was
    read. Ends every session of ``user``; audit action ``user.enable_two_factor``."""
    if enrolled(user):
        return None
    step = _totp_step(secret_key, user, code, now)
    if step is None:
        return None
    _lock_user(session, user)
    if not _update_if(session, user, User.two_factor_at.is_(None), User.totp_secret == user.totp_secret,
                      two_factor_at=utcnow(), totp_last_step=step):
        return None
    codes = _new_recovery_codes(session, user)
    sessions.end_all(user)
    audit(session, user.id, user, "enable_two_factor", None, recovery_codes=len(codes))
    return codes


def check_second_factor(session: Session, secret_key: str, user: User, code: str, now: float) -> str | None:
    """Check the second factor ``user`` typed: a TOTP code (six digits) or an unused recovery code.

    Returns ``"totp"`` or ``"recovery code"`` for the kind that was accepted, None when neither matches.
    An accepted TOTP code's step is kept, so the same code is refused afterwards; an accepted recovery
    code is marked used (audit action ``user.use_recovery_code``, with how many are left). Of concurrent
    checks of the same code exactly one accepts it (see the module's docstring); the caller's later writes
    to ``user`` happen under the row lock taken here.
    """
    if not enrolled(user):
        return None
    if two_factor.looks_like_totp(code):
        step = _totp_step(secret_key, user, code, now)
        if step is None:
            return None
        _lock_user(session, user)
        later = or_(User.totp_last_step.is_(None), User.totp_last_step < step)
        if not _update_if(session, user, User.two_factor_at.is_not(None), User.totp_secret == user.totp_secret,
                          later, totp_last_step=step):
            return None
        return "totp"
    if not two_factor.looks_like_recovery_code(code):
        return None
    unused = session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id,
                                                        RecoveryCode.used_at.is_(None))).all()
    recovery = next((row for row in unused if two_factor.recovery_code_matches(row.code_hash, code)), None)
    if recovery is None:
        return None
    _lock_user(session, user)
    # The hash too: SQLite gives a new row the id of a deleted one, so after new codes were made meanwhile the
    # same id may name another code (argon2's random salt makes every hash different).
    if not _update_if(session, recovery, RecoveryCode.code_hash == recovery.code_hash, RecoveryCode.used_at.is_(None),
                      used_at=utcnow()):
        return None
    audit(session, user.id, user, "use_recovery_code", None, left=recovery_codes_left(session, user))
    return "recovery code"


def recovery_codes_left(session: Session, user: User) -> int:
    """How many of ``user``'s recovery codes are still unused."""
    return session.scalar(select(func.count()).select_from(RecoveryCode)
                          .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))) or 0


def _turn_off(session: Session, user: User) -> None:
    user.totp_secret, user.two_factor_at, user.totp_last_step = None, None, None
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    sessions.end_all(user)


def disable(session: Session, secret_key: str, user: User, code: str, now: float) -> bool:
    """Turn ``user``'s own two-factor sign-in off when ``code`` is a current TOTP code or an unused recovery
    code; False (nothing changed) otherwise. Drops the secret and every recovery code and ends every
    session of ``user``; audit action ``user.disable_two_factor``."""
    kind = check_second_factor(session, secret_key, user, code, now)
    if kind is None:
        return False
    _turn_off(session, user)
    audit(session, user.id, user, "disable_two_factor", None, confirmed_with=kind)
    return True


def regenerate_recovery_codes(session: Session, secret_key: str, user: User, code: str,
                              now: float) -> list[str] | None:
    """New recovery codes for enrolled ``user`` (the old ones stop working) when ``code`` is a current TOTP code
    or an unused recovery code; None (nothing changed) otherwise. Audit action
    ``user.regenerate_recovery_codes``."""
    kind = check_second_factor(session, secret_key, user, code, now)
    if kind is None:
        return None
    codes = _new_recovery_codes(session, user)
    audit(session, user.id, user, "regenerate_recovery_codes", None, confirmed_with=kind)
    return codes


def reset(session: Session, user: User, by: int | None, note: str | None = None) -> bool:
    """An admin's reset of ``user``'s two-factor sign-in (a lost phone and no recovery code left): off, with
    the secret and recovery codes dropped and every session ended; audit action ``user.reset_two_factor``.
    False (nothing changed, nothing audited) when ``user`` had neither two-factor sign-in nor a pending
    enrolment."""
    if not enrolled(user) and user.totp_secret is None:
        return False
    was_on = enrolled(user)
    _turn_off(session, user)
    audit(session, by, user, "reset_two_factor", note, was_enrolled=was_on)
    return True
