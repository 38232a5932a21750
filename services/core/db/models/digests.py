"""The weekly digest: what it says, rendered once, and where it stands."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.core import limits
from services.core.db.base import Base, UtcDateTime, string_enum, utcnow
from services.core.domain import DigestState


class Digest(Base):
    """One weekly digest; the week label is its idempotency key."""

    __tablename__ = "digests"

    id: Mapped[int] = mapped_column(primary_key=True)
    week: Mapped[str] = mapped_column(String(10), unique=True)
    state: Mapped[DigestState] = mapped_column(string_enum(DigestState, 16), default=DigestState.DRAFT, index=True)
    subject: Mapped[str] = mapped_column(String(limits.SUBJECT))
    preheader: Mapped[str] = mapped_column(String(limits.PREHEADER), default="")
    intro: Mapped[str] = mapped_column(Text, default="")
    sections: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)
    html: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str | None] = mapped_column(Text)
    compiled_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    approved_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)

    @property
    def has_body(self) -> bool:
        """Whether both parts of the mail, HTML and text, were rendered: only such a digest may be approved or
        sent (a compile that failed half-way must never mail empty parts)."""
        return bool((self.html or "").strip() and (self.text or "").strip())


class DigestVariant(Base):
    """One version of a digest's mail as a send cut it: the sections one group of recipients gets.

    Recipients are grouped by their topics (``services.core.topics``); each distinct set of matching
    sections that occurs is rendered once and stored here, with how many recipients it was cut for.
    A variant with no section (``section_ids`` empty) is never rendered nor sent; its row keeps the count.
    """

    __tablename__ = "digest_variants"
    __table_args__ = (UniqueConstraint("digest_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    digest_id: Mapped[int] = mapped_column(ForeignKey("digests.id", ondelete="CASCADE"), index=True)
    #: The section ids joined by spaces, in the digest's order: the variant's identity within its digest.
    key: Mapped[str] = mapped_column(Text)
    section_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    subject: Mapped[str] = mapped_column(String(limits.SUBJECT))
    html: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str | None] = mapped_column(Text)
    recipient_count: Mapped[int] = mapped_column(Integer, default=0)
