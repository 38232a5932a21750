"""/metrics: the Prometheus text exposition (project metrics; the workers' too when their directory is shared)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from services.core import broker
from services.ops.metrics import exposition, worker_metrics_dir
from services.web.db import DbSession

router = APIRouter()


@router.get("/metrics", include_in_schema=False)
def metrics(session: DbSession) -> Response:
    body = exposition(broker.current, session, worker_metrics_dir())
    return Response(body, media_type=CONTENT_TYPE_LATEST)
