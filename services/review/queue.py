"""The review queue: candidates waiting for an editor, and the editor's decisions on them.

Every decision checks the candidate is still undecided and, when the caller says which revision
it saw, that nobody changed it since; the ``Tool.revision`` version column catches the race of two
transactions deciding at the same moment. Either way the loser gets ``ReviewConflict`` and nothing
is applied twice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Select, false, func, or_, select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.exc import StaleDataError

from services.core import events, limits
from services.core.db.base import utcnow
from services.core.db.models import AuditEntry, Evidence, Source, Tool, User, Verdict
from services.core.domain import EvidenceKind, ToolState
from services.core.errors import DomainError
from services.core.text import checked_text, clean_text
from services.review.errors import CandidateNotFound, ReviewConflict, ReviewError
from services.review.tool_edits import EDITABLE_FIELDS, ToolEdits, cleaned

#: The states the queue can be filtered by; "snoozed" are candidates put aside until a later date.
QUEUE_STATES = ("candidate", "snoozed", "approved", "rejected", "merged")
PAGE_SIZE = 50


@dataclass(frozen=True)
class QueueFilter:
    state: str = "candidate"
    source: str | None = None
    category: str | None = None
    min_score: float | None = None
    search: str | None = None


@dataclass(frozen=True)
class QueuePage:
    tools: list[Tool]
    total: int
    offset: int
    limit: int


def _filtered(query: Select, flt: QueueFilter, now: dt.datetime) -> Select:  # type: ignore[type-arg]
    if flt.state not in QUEUE_STATES:
        raise ReviewError(f"unknown state {flt.state!r}; one of {', '.join(QUEUE_STATES)}")
    if flt.state in ("candidate", "snoozed"):
        query = query.where(Tool.state == ToolState.CANDIDATE)
        awake = or_(Tool.snoozed_until.is_(None), Tool.snoozed_until <= now)
        query = query.where(awake if flt.state == "candidate" else ~awake)
    else:
        query = query.where(Tool.state == flt.state)
    if flt.source:
        query = query.where(Tool.id.in_(select(Evidence.tool_id).where(Evidence.source_url == flt.source)))
    if flt.category:
        query = query.where(Tool.category == flt.category)
    if flt.min_score is not None:
        query = query.where(Tool.score >= flt.min_score)
    term = (flt.search or "").strip()
    if len(term) > max(limits.TOOL_NAME, limits.VENDOR):
        # Longer than any name or vendor can be, so it matches nothing; and SQLite refuses LIKE patterns
        # past its length limit (50,000 bytes) instead of answering.
        query = query.where(false())
    elif term:
        pattern = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(Tool.name.ilike(pattern, escape="\\"), Tool.vendor.ilike(pattern, escape="\\")))
    return query


def search(session: Session, flt: QueueFilter | None = None, offset: int = 0, limit: int = PAGE_SIZE) -> QueuePage:
    """One page of the queue, newest first, with evidence loaded, and how many match in all.

    Raises ``ReviewError`` for a state not in ``QUEUE_STATES``.
    """
    flt = flt or QueueFilter()
    now = utcnow()
    total = session.scalar(_filtered(select(func.count(Tool.id)), flt, now)) or 0
    query = (_filtered(select(Tool), flt, now).options(selectinload(Tool.evidence))
             .order_by(Tool.created_at.desc(), Tool.id.desc()).offset(max(offset, 0)).limit(limit))
    return QueuePage(list(session.scalars(query)), total, offset, limit)


def candidates(session: Session, limit: int = 100) -> list[Tool]:
    """Undecided candidates newest first, with their evidence loaded."""
    return search(session, QueueFilter(), 0, limit).tools


def tool_row(tool: Tool) -> dict[str, object]:
    """A tool as plain JSON-ready values, for the API and the CLI."""
    return {
        "id": tool.id,
        "revision": tool.revision,
        "state": tool.state,
        **{fact.name: getattr(tool, fact.name) for fact in EDITABLE_FIELDS},
        "score": round(tool.score, 2),
        "reasons": list(tool.reasons),
        "model_version": tool.model_version,
        "snoozed_until": tool.snoozed_until.isoformat() if tool.snoozed_until else None,
        "merged_into_id": tool.merged_into_id,
        "created_at": tool.created_at.isoformat(),
        "names": sorted({name for ev in tool.evidence for name in ev.names or ()}),
        "evidence": [{"url": ev.url, "source": ev.source_url, "title": ev.title, "snippet": ev.snippet,
                      "names": list(ev.names or ())} for ev in tool.evidence],
    }


def candidate_rows(session: Session, flt: QueueFilter | None = None, limit: int = 100) -> list[dict[str, object]]:
    return [tool_row(tool) for tool in search(session, flt, 0, limit).tools]


def filter_choices(session: Session) -> dict[str, list[str]]:
    """The sources and categories the queue's filters offer."""
    return {
        "sources": list(session.scalars(select(Source.url).order_by(Source.url))),
        "categories": list(session.scalars(select(Tool.category).where(Tool.category.is_not(None))
                                           .distinct().order_by(Tool.category))),
    }


def _pending(session: Session, tool_id: int, revision: int | None) -> Tool:
    tool = session.get(Tool, tool_id)
    if tool is None:
        raise CandidateNotFound(f"no candidate with id {tool_id}")
    if tool.state != ToolState.CANDIDATE:
        decider = session.get(User, tool.decided_by_id) if tool.decided_by_id else None
        who = f"by {decider.email}" if decider else "from the command line or by someone else"
        when = f" at {tool.decided_at:%Y-%m-%d %H:%M} UTC" if tool.decided_at else ""
        raise ReviewConflict(f"{tool.name!r} was already {tool.state} {who}{when}; nothing changed")
    if revision is not None and tool.revision != revision:
        raise ReviewConflict(f"{tool.name!r} was changed by someone else since you opened it; "
                             "reload to see the change, nothing was applied")
    return tool


def _flush(session: Session, tool: Tool) -> None:
    """Write now, turning a concurrent write to the same row into a conflict."""
    try:
        session.flush()
    except StaleDataError as exc:
        raise ReviewConflict(f"{tool.name!r} was decided by someone else at the same moment; nothing changed") from exc


def _decided(tool: Tool, editor: User | None, state: ToolState) -> None:
    tool.state = state
    tool.decided_at = utcnow()
    tool.decided_by_id = editor.id if editor else None


def approve(session: Session, tool_id: int, editor: User | None, edits: ToolEdits | None = None,
            revision: int | None = None) -> Tool:
    """Approve a candidate with the editor's corrections and open it for the panel.

    Raises ``CandidateNotFound``, ``ReviewConflict`` (decided or changed since ``revision``) or
    ``ReviewError`` (a correction too long for its fact, or a homepage that is not an http(s) address).
    """
    values = cleaned(edits)
    tool = _pending(session, tool_id, revision)
    before = {name: getattr(tool, name) for name in values}
    for name, value in values.items():
        setattr(tool, name, value)
    _decided(tool, editor, ToolState.APPROVED)
    _flush(session, tool)
    session.add(Verdict(tool_id=tool.id))
    changed = {name: [before[name], value] for name, value in values.items() if before[name] != value}
    audit(session, editor, "tool.approve", f"tool:{tool.id}", {"name": tool.name, "edits": changed})
    session.flush()
    events.record(session, "tool.approved", tool_id=tool.id)
    return tool


def reject(session: Session, tool_id: int, editor: User | None, reason: str, revision: int | None = None) -> Tool:
    """Reject a candidate with the editor's reason (cleaned by ``services.core.text.checked_text``).

    Raises ``CandidateNotFound``, ``ReviewConflict`` or ``ReviewError`` (an empty reason, or one over
    ``limits.REJECT_REASON`` characters).
    """
    reason = checked_text(reason, field="reason", max_length=limits.REJECT_REASON, multiline=True, required=True,
                          refuse=ReviewError)
    tool = _pending(session, tool_id, revision)
    tool.reject_reason = reason
    _decided(tool, editor, ToolState.REJECTED)
    _flush(session, tool)
    audit(session, editor, "tool.reject", f"tool:{tool.id}", {"name": tool.name}, note=reason)
    events.record(session, "tool.rejected", tool_id=tool.id)
    return tool


def merge(session: Session, tool_id: int, into_id: int, editor: User | None, revision: int | None = None) -> Tool:
    """Fold a duplicate candidate into an existing tool: its evidence moves over, the candidate is closed.

    Raises ``CandidateNotFound``, ``ReviewConflict`` or ``ReviewError`` (merging into itself, or into a
    tool that is missing, merged or rejected).
    """
    if tool_id == into_id:
        raise ReviewError("a candidate cannot be merged into itself")
    target = session.get(Tool, into_id)
    if target is None or target.state in (ToolState.MERGED, ToolState.REJECTED):
        raise ReviewError(f"no tool with id {into_id} to merge into")
    tool = _pending(session, tool_id, revision)
    known_entries = {ev.entry_id for ev in target.evidence if ev.entry_id is not None}
    for ev in list(tool.evidence):
        if ev.entry_id is None or ev.entry_id not in known_entries:
            tool.evidence.remove(ev)
            target.evidence.append(Evidence(entry_id=ev.entry_id, source_url=ev.source_url, url=ev.url,
                                            title=ev.title, snippet=ev.snippet, kind=EvidenceKind.MERGED,
                                            version=ev.version))
    tool.merged_into_id = target.id
    _decided(tool, editor, ToolState.MERGED)
    _flush(session, tool)
    audit(session, editor, "tool.merge", f"tool:{tool.id}", {"name": tool.name, "into": target.id,
                                                              "into_name": target.name})
    events.record(session, "tool.merged", tool_id=tool.id, into_id=target.id)
    return tool


def merge_target(session: Session, name: str) -> int:
    """The id of the approved tool ``name`` names (its name in any case, or its slug; spaces around ignored),
    to merge into. Raises ``ReviewError`` when no approved tool has that name."""
    name = name.strip()
    target = session.scalar(
        select(Tool.id).where(or_(func.lower(Tool.name) == name.lower(), Tool.slug == name.lower()),
                              Tool.state == ToolState.APPROVED).limit(1))
    if target is None:
        raise ReviewError(f"no approved tool named {name!r}; give its name or id")
    return target


def snooze(session: Session, tool_id: int, editor: User | None, days: int, revision: int | None = None) -> Tool:
    """Put a candidate aside; it returns to the queue after ``days`` (1 to 365).

    Raises ``CandidateNotFound``, ``ReviewConflict`` or ``ReviewError`` (days out of range).
    """
    if not 1 <= days <= 365:
        raise ReviewError("snooze for 1 to 365 days")
    tool = _pending(session, tool_id, revision)
    tool.snoozed_until = utcnow() + dt.timedelta(days=days)
    _flush(session, tool)
    audit(session, editor, "tool.snooze", f"tool:{tool.id}", {"name": tool.name, "days": days})
    return tool


@dataclass(frozen=True)
class BulkOutcome:
    tool_id: int
    ok: bool
    message: str


def bulk(session: Session, action: str, tool_ids: list[int], editor: User | None, reason: str = "",
         days: int = 7) -> list[BulkOutcome]:
    """Apply one action to many candidates; each succeeds or fails on its own (a savepoint each).

    A candidate's refusal is its outcome's message; raises ``ReviewError`` only for an unknown action or a
    rejection without a reason.
    """
    if action not in ("approve", "reject", "snooze"):
        raise ReviewError(f"unknown bulk action {action!r}")
    if action == "reject" and not clean_text(reason, multiline=True):
        raise ReviewError("a rejection needs a reason")
    outcomes = []
    for tool_id in dict.fromkeys(tool_ids):
        try:
            with session.begin_nested():
                if action == "approve":
                    tool = approve(session, tool_id, editor)
                elif action == "reject":
                    tool = reject(session, tool_id, editor, reason)
                else:
                    tool = snooze(session, tool_id, editor, days)
            outcomes.append(BulkOutcome(tool_id, True, f"{tool.name}: {action} done"))
        except DomainError as exc:
            outcomes.append(BulkOutcome(tool_id, False, str(exc)))
    return outcomes


def audit(session: Session, user: User | None, action: str, subject: str, detail: dict[str, object],
          note: str | None = None) -> None:
    """Put a decision on the record: who, what, on which subject, when."""
    session.add(AuditEntry(user_id=user.id if user else None, action=action, subject=subject, detail=detail,
                           note=note))


def audit_log(session: Session, limit: int = 200) -> list[tuple[AuditEntry, str | None]]:
    """The newest decisions first, with the email of who made them."""
    rows = session.execute(select(AuditEntry, User.email).outerjoin(User, User.id == AuditEntry.user_id)
                           .order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)).all()
    return [(entry, email) for entry, email in rows]
