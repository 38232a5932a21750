"""DbSession: a request's changes are stored when its handler returns, dropped when it raises, never answered 2xx unstored."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from services.core.db.models import PanelSeat
from services.core.errors import InvalidInput
from services.core.runtime import Runtime
from services.web.app import create_app
from services.web.db import DbSession


def _app(rt: Runtime) -> FastAPI:
    """The real app with three probe routes that each add a panel seat (``lens`` is unique)."""
    app = create_app(rt)

    @app.post("/probe/{lens}")
    def stored(lens: str, session: DbSession) -> dict[str, str]:
        session.add(PanelSeat(lens=lens))
        return {"lens": lens}

    @app.post("/probe/{lens}/refused")
    def refused(lens: str, session: DbSession) -> dict[str, str]:
        session.add(PanelSeat(lens=lens))
        session.flush()
        raise InvalidInput(f"{lens} is refused")

    @app.post("/probe/{lens}/twice")
    def twice(lens: str, session: DbSession) -> dict[str, str]:
        session.add_all([PanelSeat(lens=lens), PanelSeat(lens=lens)])  # nothing flushes until the commit
        return {"lens": lens}

    return app


def _lenses(rt: Runtime) -> list[str]:
    with rt.sessions() as session:
        return list(session.scalars(select(PanelSeat.lens).order_by(PanelSeat.lens)))


def test_what_a_handler_adds_is_stored_when_it_returns(rt: Runtime) -> None:
    # When a handler adds a row and returns
    response = TestClient(_app(rt)).post("/probe/builder")
    # Then the answer is a success and the row is stored
    assert response.status_code == 200
    assert _lenses(rt) == ["builder"]


def test_what_a_refused_handler_added_is_rolled_back(rt: Runtime) -> None:
    # When a handler adds (and flushes) a row, then refuses the request
    response = TestClient(_app(rt)).post("/probe/skeptic/refused")
    # Then the refusal is answered and nothing is stored
    assert response.status_code == 400 and "skeptic is refused" in response.text
    assert _lenses(rt) == []


def test_a_commit_that_fails_is_answered_500_never_a_success(rt: Runtime) -> None:
    # When the handler returns but its transaction cannot commit (two seats with one lens)
    response = TestClient(_app(rt), raise_server_exceptions=False).post("/probe/buyer/twice")
    # Then the client hears of the failure, and nothing is stored
    assert response.status_code == 500
    assert _lenses(rt) == []
