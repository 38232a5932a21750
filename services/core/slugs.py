"""URL slugs, unique within one column."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:120] or "item"


def unique_slug(session: Session, column: InstrumentedAttribute[str], text: str) -> str:
    """``slugify(text)``, with ``-2``, ``-3``… appended when the column already holds it."""
    base = slugify(text)
    taken = set(session.scalars(select(column).where(column.like(f"{base}%"))))
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"
