"""The reviewer panel's seats, their scorecards, verdicts, comparisons and community votes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from services.core import limits
from services.core.db.base import Base, UtcDateTime, string_enum, utcnow
from services.core.db.models.tools import Tool
from services.core.domain import Call, ComparisonState, VerdictState


class PanelSeat(Base):
    __tablename__ = "panel_seats"

    id: Mapped[int] = mapped_column(primary_key=True)
    lens: Mapped[str] = mapped_column(String(limits.LENS), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Verdict(Base):
    """The panel's judgement of one approved tool; completed when every active seat has called."""

    __tablename__ = "verdicts"

    id: Mapped[int] = mapped_column(primary_key=True)
    tool_id: Mapped[int] = mapped_column(ForeignKey("tools.id", ondelete="CASCADE"), unique=True)
    state: Mapped[VerdictState] = mapped_column(string_enum(VerdictState, 16), default=VerdictState.OPEN, index=True)
    ship_percent: Mapped[int | None] = mapped_column(Integer)
    opened_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)

    tool: Mapped[Tool] = relationship()
    scorecards: Mapped[list[Scorecard]] = relationship(back_populates="verdict", cascade="all, delete-orphan")


class Scorecard(Base):
    __tablename__ = "scorecards"
    __table_args__ = (UniqueConstraint("verdict_id", "seat_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    verdict_id: Mapped[int] = mapped_column(ForeignKey("verdicts.id", ondelete="CASCADE"), index=True)
    seat_id: Mapped[int] = mapped_column(ForeignKey("panel_seats.id", ondelete="CASCADE"))
    call: Mapped[Call] = mapped_column(string_enum(Call, 8))
    quote: Mapped[str] = mapped_column(Text)
    submitted_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    verdict: Mapped[Verdict] = relationship(back_populates="scorecards")
    seat: Mapped[PanelSeat] = relationship()


class Comparison(Base):
    __tablename__ = "comparisons"
    #: A category's page counts its published comparisons from this index alone.
    __table_args__ = (Index("ix_comparisons_category_state", "category", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(300), unique=True)
    headline: Mapped[str] = mapped_column(String(limits.HEADLINE))
    tool_a_id: Mapped[int] = mapped_column(ForeignKey("tools.id"))
    tool_b_id: Mapped[int] = mapped_column(ForeignKey("tools.id"))
    category: Mapped[str | None] = mapped_column(String(limits.CATEGORY))
    editor_note: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[ComparisonState] = mapped_column(string_enum(ComparisonState, 16), default=ComparisonState.DRAFT,
                                                   index=True)
    published_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, index=True)
    mailed_in_digest_id: Mapped[int | None] = mapped_column(ForeignKey("digests.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)

    tool_a: Mapped[Tool] = relationship(foreign_keys=[tool_a_id])
    tool_b: Mapped[Tool] = relationship(foreign_keys=[tool_b_id])


class Vote(Base):
    """One subscriber's ship or skip on one tool; changeable, never duplicated."""

    __tablename__ = "votes"
    __table_args__ = (UniqueConstraint("subscriber_id", "tool_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    tool_id: Mapped[int] = mapped_column(ForeignKey("tools.id", ondelete="CASCADE"), index=True)
    call: Mapped[Call] = mapped_column(string_enum(Call, 8))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
