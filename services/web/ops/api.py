"""The ops figures as JSON under /api/ops/…, for scripts and dashboards (``Authorization: Bearer <token>``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request

from services.core import broker
from services.core.db.models import User
from services.core.domain import Role
from services.ops import dead_letters, store
from services.ops.overview import queue_rows
from services.ops.queues import queue_depths
from services.ops.workers import workers as seen_workers
from services.web.auth import require_api
from services.web.db import DbSession
from services.web.ops.overview import as_json, gather

router = APIRouter(prefix="/api/ops", tags=["ops"])
ops = require_api(Role.OPS)


@router.get("/queues")
def queues(user: User = Depends(ops)) -> list[dict[str, Any]]:
    """Every queue in the broker: ready, delayed, in_flight, dead, and the last hour's processed and failed."""
    return [row.as_dict() for row in queue_rows(broker.current())]


@router.get("/queues/{queue}/dead-letters")
def queue_dead_letters(queue: str, user: User = Depends(ops)) -> list[dict[str, Any]]:
    if queue not in {depth.name for depth in queue_depths(broker.current())}:
        raise HTTPException(404, f"no queue named {queue!r} in the broker")
    return [letter.as_dict() for letter in dead_letters.dead_letters(broker.current(), queue)]


@router.get("/overview")
def overview(request: Request, session: DbSession, user: User = Depends(ops)) -> dict[str, Any]:
    """Everything the ops page shows: queues, workers, sources, sends, outbox, open alerts."""
    return as_json(gather(request, session))


@router.get("/workers")
def workers(user: User = Depends(ops)) -> list[dict[str, Any]]:
    """Processes in the broker's heartbeats: alive or not, last seen, queues."""
    return [worker.as_dict() for worker in seen_workers(broker.current())]


@router.get("/sources")
def sources(session: DbSession, user: User = Depends(ops)) -> list[dict[str, Any]]:
    return store.feed_health(session)


@router.get("/sends")
def sends(session: DbSession, user: User = Depends(ops)) -> list[dict[str, Any]]:
    return [send.as_dict() for send in store.sends(session)]


@router.get("/outbox")
def outbox(request: Request, session: DbSession, user: User = Depends(ops)) -> list[dict[str, Any]]:
    """Events unhandled for longer than the sweeper's grace period."""
    return store.outbox_waiting(session, request.app.state.runtime.settings.event_grace_seconds)
