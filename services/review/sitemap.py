"""What search engines may list: approved tools, published comparisons and categories, in a stable order.

Each kind is counted and read a slice at a time, so a sitemap page of 50,000 addresses never loads the rest.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.core.db.models import Comparison, Tool
from services.core.domain import ComparisonState, ToolState

#: (slug or name, last modified), in id order.
Listed = list[tuple[str, dt.datetime | None]]


def tool_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Tool).where(Tool.state == ToolState.APPROVED)) or 0


def tools(session: Session, offset: int, limit: int) -> Listed:
    """Approved tools' slugs with when they last changed, by id, ``limit`` from ``offset``."""
    return [(slug, updated) for slug, updated in session.execute(
        select(Tool.slug, Tool.updated_at).where(Tool.state == ToolState.APPROVED)
        .order_by(Tool.id).offset(offset).limit(limit))]


def comparison_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Comparison)
                          .where(Comparison.state == ComparisonState.PUBLISHED)) or 0


def comparisons(session: Session, offset: int, limit: int) -> Listed:
    """Published comparisons' slugs with when they were published, by id, ``limit`` from ``offset``."""
    return [(slug, published) for slug, published in session.execute(
        select(Comparison.slug, Comparison.published_at).where(Comparison.state == ComparisonState.PUBLISHED)
        .order_by(Comparison.id).offset(offset).limit(limit))]


def category_names(session: Session) -> list[str]:
    """The categories of approved tools, by name (a category page exists for each)."""
    return list(session.scalars(select(Tool.category).where(Tool.state == ToolState.APPROVED,
                                                             Tool.category.is_not(None))
                                .distinct().order_by(Tool.category)))
