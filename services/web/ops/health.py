"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from services.core import broker

router = APIRouter()


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    checks: dict[str, str] = {}
    try:
        with request.app.state.runtime.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # any failure means not ready; the message says which
        checks["database"] = f"failed: {type(exc).__name__}"
    checks["broker"] = _broker_check()
    ready = all(value == "ok" for value in checks.values())
    return JSONResponse(checks, status_code=200 if ready else 503)


def _broker_check() -> str:
    current = broker.current()
    client = getattr(current, "client", None)
    if client is None:
        return "ok"  # the embedded StubBroker lives in this process
    try:
        client.ping()
        return "ok"
    except Exception as exc:
        return f"failed: {type(exc).__name__}"
