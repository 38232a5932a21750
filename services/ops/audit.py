"""Every ops action is written to the audit log, in the same transaction as its effect where there is one."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.core.db.models import AuditEntry


def record(session: Session, user_id: int | None, action: str, subject: str, **detail: object) -> AuditEntry:
    entry = AuditEntry(user_id=user_id, action=f"ops.{action}", subject=subject, detail=detail)
    session.add(entry)
    return entry
