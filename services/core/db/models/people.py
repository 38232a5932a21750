"""People who sign in, their API tokens, and the audit log of what they decided."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from services.core import limits
from services.core.db.base import Base, UtcDateTime, string_enum, utcnow
from services.core.domain import Role, TokenScope


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(limits.EMAIL), unique=True)
    role: Mapped[Role] = mapped_column(string_enum(Role, 16))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Bumped to end every session of the user at once (services/web/sessions.py): a cookie is only good
    #: for the generation it was issued under.
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: The TOTP shared secret (RFC 6238), encrypted (services/web/two_factor.py); set from the start of
    #: enrolment, None without two-factor sign-in.
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    #: When enrolment was confirmed with a valid code; None: two-factor sign-in is off (or not yet confirmed).
    two_factor_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    #: The time step of the last code accepted, so no code is accepted twice (RFC 6238 §5.2).
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    #: The token's first characters, shown in listings so a person can tell their tokens apart.
    prefix: Mapped[str] = mapped_column(String(16), default="", server_default="")
    scope: Mapped[TokenScope] = mapped_column(string_enum(TokenScope, 16), default=TokenScope.FULL,
                                              server_default=TokenScope.FULL.value)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class RecoveryCode(Base):
    """A one-time code that stands in for a TOTP code at sign-in; only its argon2 hash is kept."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    used_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    action: Mapped[str] = mapped_column(String(100))
    subject: Mapped[str] = mapped_column(String(200))
    detail: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
