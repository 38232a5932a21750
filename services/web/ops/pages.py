"""The ops page (role ops or admin): queues, workers, dead letters, feed health, sends, outbox; and the actions.

The page refreshes its figures every few seconds by fetching ``/ops/live`` (the same fragment it
was rendered with). Every action is written to the audit log.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from services.core import broker
from services.core.db.models import User
from services.core.domain import Role, SourceState
from services.ops import audit, dead_letters
from services.ops.queues import queue_depths
from services.web.auth import require
from services.web.csrf import csrf_protected
from services.web.db import DbSession
from services.web.ids import RowId
from services.web.ops.overview import gather
from services.web.rendering import page

router = APIRouter(prefix="/ops")
ops = require(Role.OPS)
protected = [Depends(csrf_protected)]
REFRESH_SECONDS = 3


def _back(path: str, note: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?done={quote(note)}", status_code=303)


def _known_queue(name: str) -> str:
    if name not in {depth.name for depth in queue_depths(broker.current())}:
        raise HTTPException(404, f"No queue named {name!r} in the broker.")
    return name


@router.get("", response_class=HTMLResponse)
def ops_page(request: Request, session: DbSession, done: str | None = None, user: User = Depends(ops)) -> HTMLResponse:
    return page(request, "ops.html", done=done, refresh_seconds=REFRESH_SECONDS, **gather(request, session))


@router.get("/live", response_class=HTMLResponse)
def ops_live(request: Request, session: DbSession, user: User = Depends(ops)) -> HTMLResponse:
    return page(request, "ops_live.html", **gather(request, session))


@router.get("/queues/{queue}", response_class=HTMLResponse)
def queue_page(request: Request, queue: str, done: str | None = None, user: User = Depends(ops)) -> HTMLResponse:
    name = _known_queue(queue)
    depth = next(depth for depth in queue_depths(broker.current()) if depth.name == name)
    letters = dead_letters.dead_letters(broker.current(), name)
    return page(request, "ops_queue.html", queue=depth, letters=letters, done=done)


@router.post("/queues/{queue}/dead/{letter_id}/retry", dependencies=protected)
def retry_one(queue: str, letter_id: str, session: DbSession, user: User = Depends(ops)) -> RedirectResponse:
    name = _known_queue(queue)
    retried = dead_letters.retry(broker.current(), name, letter_id)
    audit.record(session, user.id, "dead_letter.retry", f"queue:{name}", letter_id=letter_id, retried=retried)
    note = "Sent back to the queue." if retried else "Not sent: it was retried or purged already, or cannot be read."
    return _back(f"/ops/queues/{quote(name)}", note)


@router.post("/queues/{queue}/dead/retry-all", dependencies=protected)
def retry_all(queue: str, session: DbSession, user: User = Depends(ops)) -> RedirectResponse:
    name = _known_queue(queue)
    count = dead_letters.retry_all(broker.current(), name)
    audit.record(session, user.id, "dead_letter.retry_all", f"queue:{name}", retried=count)
    return _back(f"/ops/queues/{quote(name)}", f"{count} message(s) sent back to the queue.")


@router.get("/queues/{queue}/dead/purge", response_class=HTMLResponse)
def purge_confirm(request: Request, queue: str, user: User = Depends(ops)) -> HTMLResponse:
    name = _known_queue(queue)
    depth = next(depth for depth in queue_depths(broker.current()) if depth.name == name)
    return page(request, "ops_confirm.html", queue=depth)


@router.post("/queues/{queue}/dead/purge", dependencies=protected)
def purge(queue: str, session: DbSession, user: User = Depends(ops)) -> RedirectResponse:
    name = _known_queue(queue)
    count = dead_letters.purge(broker.current(), name)
    audit.record(session, user.id, "dead_letter.purge", f"queue:{name}", purged=count)
    return _back(f"/ops/queues/{quote(name)}", f"{count} dead letter(s) purged.")


def _set_source(session: Session, user: User, source_id: int, state: SourceState) -> None:
    from services.ingest.sources import set_state

    set_state(session, source_id, state, reason=f"by {user.email} on the ops page")
    audit.record(session, user.id, f"source.{'resume' if state is SourceState.ACTIVE else 'pause'}",
                 f"source:{source_id}")


@router.post("/sources/{source_id}/pause", dependencies=protected)
def pause_source(source_id: RowId, session: DbSession, user: User = Depends(ops)) -> RedirectResponse:
    _set_source(session, user, source_id, SourceState.PAUSED)
    return _back("/ops", f"Source {source_id} paused.")


@router.post("/sources/{source_id}/resume", dependencies=protected)
def resume_source(source_id: RowId, session: DbSession, user: User = Depends(ops)) -> RedirectResponse:
    _set_source(session, user, source_id, SourceState.ACTIVE)
    return _back("/ops", f"Source {source_id} resumed.")


@router.post("/sources/{source_id}/poll", dependencies=protected)
def poll_now(source_id: RowId, session: DbSession, user: User = Depends(ops)) -> RedirectResponse:
    from services.ingest.actors import poll_source
    from services.ingest.sources import get_source

    get_source(session, source_id)
    audit.record(session, user.id, "source.poll_now", f"source:{source_id}")
    session.commit()  # the request is on the record before the worker is asked
    poll_source.send(source_id)
    return _back("/ops", f"Source {source_id} will be polled now.")
