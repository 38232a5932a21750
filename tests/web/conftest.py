"""The web app under test, and helpers to sign people in the way a browser does (with the CSRF token)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from services.core.db.models import PanelSeat, User
from services.core.passwords import hash_password
from services.core.runtime import Runtime
from services.web.app import create_app
from tests.conftest import make_settings
from tests.web.live_server import free_port, live_server

PASSWORD = "correct horse battery"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def site(rt: Runtime, tmp_path: Path) -> Iterator[tuple[Runtime, str]]:
    """The app on a real port for a browser, its base URL that address (so links and the session
    cookie match it): the served runtime and the base URL."""
    port = free_port()
    served = Runtime.from_settings(make_settings(tmp_path, rt.settings.database_url,
                                                 base_url=f"http://127.0.0.1:{port}"))
    with live_server(served, port) as base:
        yield served, base
    served.engine.dispose()


@pytest.fixture
def client(rt: Runtime) -> TestClient:
    return client_with(rt)


def client_with(rt: Runtime, peer: str = "testclient", **overrides: object) -> TestClient:
    """A browser at ``peer`` on https://verdicts.example.org, on the app over ``rt``'s database with ``rt``'s
    settings changed by ``overrides`` (setting names, unvalidated, as ``model_copy`` takes them)."""
    changed = replace(rt, settings=rt.settings.model_copy(update=overrides))
    return TestClient(create_app(changed), base_url="https://verdicts.example.org", client=(peer, 50000))


def add_user(rt: Runtime, email: str, role: str, lens: str | None = None) -> User:
    """A person with PASSWORD; a reviewer with ``lens`` holds that panel seat."""
    with rt.sessions() as session, session.begin():
        user = User(email=email, role=role, password_hash=hash_password(PASSWORD))
        session.add(user)
        session.flush()
        if lens:
            seat = session.scalar(select(PanelSeat).where(PanelSeat.lens == lens)) or PanelSeat(lens=lens)
            seat.user_id = user.id
            session.add(seat)
    return user


def csrf(client: TestClient) -> str:
    """The CSRF token of the client's session, read from a form the way a browser sees it."""
    found = _CSRF.search(client.get("/login").text)
    assert found, "the sign-in form carries a CSRF token"
    return found.group(1)


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> str:
    """Sign in through the form; returns the new session's CSRF token for further posts."""
    response = client.post("/login", data={"email": email, "password": password, "csrf_token": csrf(client)},
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    return csrf(client)
