"""The audit log: who decided what, and when."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from services.core.db.models import User
from services.core.domain import Role
from services.review import queue
from services.web.auth import require
from services.web.db import DbSession
from services.web.rendering import page

router = APIRouter()


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, session: DbSession, user: User = Depends(require(Role.EDITOR))) -> HTMLResponse:
    return page(request, "audit.html", entries=queue.audit_log(session))
