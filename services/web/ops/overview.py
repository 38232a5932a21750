"""Gathering what the ops page and the JSON API show, from the broker and the database, in one place."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session

from services.core import broker
from services.ops import alerts, store
from services.ops.chart import sparkline
from services.ops.overview import queue_rows
from services.ops.workers import heartbeat_timeout_ms, workers


def gather(request: Request, session: Session) -> dict[str, Any]:
    """The ops page's figures: the broker's queues and workers, and what ``session`` reads from the database."""
    rt = request.app.state.runtime
    current = broker.current()
    rows = queue_rows(current)
    return {
        "embedded": rt.settings.embedded,
        "queues": rows,
        "charts": {row.depth.name: sparkline(row.depth.name, row.hour) for row in rows},
        "workers": workers(current),
        "heartbeat_timeout_s": heartbeat_timeout_ms(current) // 1000,
        "sources": store.feed_health(session),
        "sends": store.sends(session),
        "outbox": store.outbox_waiting(session, rt.settings.event_grace_seconds),
        "grace_seconds": rt.settings.event_grace_seconds,
        "alerts": [{"key": i.key, "text": i.text, "opened_at": i.opened_at.isoformat(),
                    "notified": i.notified_at is not None} for i in alerts.open_incidents(session)],
    }


def as_json(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "queues": [row.as_dict() for row in data["queues"]],
        "workers": [worker.as_dict() for worker in data["workers"]],
        "sources": data["sources"],
        "sends": [send.as_dict() for send in data["sends"]],
        "outbox": data["outbox"],
        "alerts": data["alerts"],
    }
