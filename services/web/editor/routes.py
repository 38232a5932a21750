"""Editor pages under /editor: the review queue, the panel, comparisons, the audit log."""

from __future__ import annotations

from fastapi import APIRouter

from services.web.editor import audit, comparisons, panel, queue

router = APIRouter(prefix="/editor")
for _part in (queue.router, panel.router, comparisons.router, audit.router):
    router.include_router(_part)
