"""The review queue: candidates waiting for an editor, and the editor's decisions on them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from services.core import events
from services.core.db.base import utcnow
from services.core.db.models import AuditEntry, Tool, User, Verdict
from services.core.domain import ToolState

EDITABLE_FIELDS = ("name", "vendor", "homepage", "category", "tagline", "entry_price", "description")


class ReviewConflict(Exception):
    """The candidate was decided by someone else first; nothing was changed."""


class ReviewError(ValueError):
    """A request that cannot apply (unknown id, missing reason)."""


@dataclass(frozen=True)
class ToolEdits:
    name: str | None = None
    vendor: str | None = None
    homepage: str | None = None
    category: str | None = None
    tagline: str | None = None
    entry_price: str | None = None
    description: str | None = None


def candidates(session: Session, limit: int = 100) -> list[Tool]:
    """Candidates newest first, with their evidence loaded."""
    query = (
        select(Tool)
        .where(Tool.state == ToolState.CANDIDATE.value)
        .options(selectinload(Tool.evidence))
        .order_by(Tool.created_at.desc(), Tool.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def candidate_rows(session: Session, limit: int = 100) -> list[dict[str, object]]:
    return [
        {
            "id": tool.id,
            "name": tool.name,
            "vendor": tool.vendor,
            "score": round(tool.score, 2),
            "reasons": list(tool.reasons),
            "created_at": tool.created_at.isoformat(),
            "evidence": [{"url": ev.url, "source": ev.source_url, "title": ev.title} for ev in tool.evidence],
        }
        for tool in candidates(session, limit)
    ]


def _pending(session: Session, tool_id: int) -> Tool:
    tool = session.get(Tool, tool_id)
    if tool is None:
        raise ReviewError(f"no candidate with id {tool_id}")
    if tool.state != ToolState.CANDIDATE.value:
        raise ReviewConflict(f"{tool.name!r} was already {tool.state}; nothing changed")
    return tool


def approve(session: Session, tool_id: int, editor: User | None, edits: ToolEdits | None = None) -> Tool:
    """Approve a candidate with the editor's corrections and open it for the panel."""
    tool = _pending(session, tool_id)
    for field in EDITABLE_FIELDS:
        value = getattr(edits, field) if edits else None
        if value is not None and value.strip():
            setattr(tool, field, value.strip())
    tool.state = ToolState.APPROVED.value
    tool.decided_at = utcnow()
    tool.decided_by_id = editor.id if editor else None
    session.add(Verdict(tool=tool))
    _audit(session, editor, "tool.approve", tool)
    session.flush()
    events.record(session, "tool.approved", tool_id=tool.id)
    return tool


def reject(session: Session, tool_id: int, editor: User | None, reason: str) -> Tool:
    if not reason.strip():
        raise ReviewError("a rejection needs a reason")
    tool = _pending(session, tool_id)
    tool.state = ToolState.REJECTED.value
    tool.reject_reason = reason.strip()
    tool.decided_at = utcnow()
    tool.decided_by_id = editor.id if editor else None
    _audit(session, editor, "tool.reject", tool, note=reason.strip())
    session.flush()
    events.record(session, "tool.rejected", tool_id=tool.id)
    return tool


def _audit(session: Session, user: User | None, action: str, tool: Tool, note: str | None = None) -> None:
    session.add(AuditEntry(user_id=user.id if user else None, action=action, subject=f"tool:{tool.id}",
                           detail={"name": tool.name}, note=note))
