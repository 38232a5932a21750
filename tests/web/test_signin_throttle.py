"""Sign-in throttling: repeated failures lock an account and a client address until the window ends, answered 429
with Retry-After; X-Forwarded-For names the client only when the peer is a trusted proxy."""

from __future__ import annotations

import time
import uuid
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from services.core.runtime import Runtime
from services.web import login, signin_limits
from tests.web.conftest import PASSWORD, add_user, client_with, csrf

WRONG = "not the password"


def _client(rt: Runtime, peer: str = "203.0.113.7", **settings: object) -> TestClient:
    """A browser at ``peer`` on an app with ``settings``, counting in a Redis namespace of its own."""
    return client_with(rt, peer, redis_namespace=f"{rt.settings.redis_namespace}-{uuid.uuid4().hex}", **settings)


@pytest.fixture
def pinned_clock(monkeypatch: pytest.MonkeyPatch) -> float:
    """Sign-in's clock stopped at the test's start: the counters' windows are aligned to the epoch, so a test
    running across a window's end would otherwise count its failures in two windows. The pinned time."""
    now = time.time()
    monkeypatch.setattr(login, "time", SimpleNamespace(time=lambda: now))
    return now


def _sign_in(client: TestClient, email: str, password: str, **headers: str):  # type: ignore[no-untyped-def]
    return client.post("/login", data={"email": email, "password": password, "csrf_token": csrf(client)},
                       headers=headers, follow_redirects=False)


@pytest.mark.usefixtures("pinned_clock")
def test_repeated_failures_lock_the_account_with_429_and_retry_after(rt: Runtime) -> None:
    # Given an account that allows 3 failures per window
    user = add_user(rt, "editor@example.org", "editor")
    add_user(rt, "other@example.org", "editor")
    client = _client(rt, signin_failures_per_account=3)
    # When 3 wrong passwords are tried
    assert [_sign_in(client, user.email, WRONG).status_code for _ in range(3)] == [401, 401, 401]
    # Then even the right password is refused until the window ends, and the answer says when to come back
    locked = _sign_in(client, "Editor@Example.org", PASSWORD)
    assert locked.status_code == 429 and "Too many failed sign-ins" in locked.text
    assert 1 <= int(locked.headers["retry-after"]) <= rt.settings.signin_lock_seconds
    # And another account signs in from the same address
    assert _sign_in(client, "other@example.org", PASSWORD).status_code == 303


@pytest.mark.usefixtures("pinned_clock")
def test_repeated_failures_from_one_address_lock_that_address_for_every_account(rt: Runtime) -> None:
    # Given an address that may fail 3 times per window
    client = _client(rt, signin_failures_per_address=3)
    user = add_user(rt, "editor@example.org", "editor")
    # When it fails on three different accounts
    for n in range(3):
        assert _sign_in(client, f"guess{n}@example.org", WRONG).status_code == 401
    # Then it cannot sign in to a fourth, even with its right password
    assert _sign_in(client, user.email, PASSWORD).status_code == 429


@pytest.mark.usefixtures("pinned_clock")
def test_x_forwarded_for_from_an_untrusted_peer_makes_no_new_bucket(rt: Runtime) -> None:
    # Given no trusted proxies (the default), and an address that may fail twice
    client = _client(rt, peer="127.0.0.1", signin_failures_per_address=2)
    user = add_user(rt, "editor@example.org", "editor")
    # When each failure claims another client in X-Forwarded-For
    for n in range(2):
        _sign_in(client, f"guess{n}@example.org", WRONG, **{"x-forwarded-for": f"198.51.100.{n}"})
    # Then the peer is locked all the same
    assert _sign_in(client, user.email, PASSWORD, **{"x-forwarded-for": "198.51.100.99"}).status_code == 429


@pytest.mark.usefixtures("pinned_clock")
def test_x_forwarded_for_from_a_trusted_proxy_names_the_client(rt: Runtime) -> None:
    # Given a trusted proxy, and an address that may fail twice
    client = _client(rt, peer="10.0.0.2", trusted_proxies=("10.0.0.0/8",), signin_failures_per_address=2)
    user = add_user(rt, "editor@example.org", "editor")
    # When one client behind it fails twice
    for n in range(2):
        _sign_in(client, f"guess{n}@example.org", WRONG, **{"x-forwarded-for": "198.51.100.1"})
    # Then that client is locked, and another client behind the same proxy is not
    assert _sign_in(client, user.email, PASSWORD, **{"x-forwarded-for": "198.51.100.1"}).status_code == 429
    assert _sign_in(client, user.email, PASSWORD, **{"x-forwarded-for": "198.51.100.2"}).status_code == 303


def test_a_lock_ends_with_its_window(rt: Runtime) -> None:
    # Given an account locked at second 100 of a window
    settings = rt.settings.model_copy(update={"redis_namespace": uuid.uuid4().hex, "signin_failures_per_account": 1})
    window = settings.signin_lock_seconds
    start = window * 1000
    signin_limits.failed(settings, "ann@example.org", "203.0.113.7", start + 100)
    # Then it waits until the window's end, and the next window lets it try again
    assert signin_limits.locked_for(settings, "ann@example.org", "203.0.113.7", start + 100) == window - 100
    assert signin_limits.locked_for(settings, "ann@example.org", "203.0.113.7", start + window) is None


def test_a_refused_subscription_says_when_to_retry(rt: Runtime) -> None:
    # Given an address that may ask to subscribe once per window
    client = _client(rt, subscribe_limit_per_ip=1)
    assert client.post("/subscribe", data={"email": "eager@example.org"}).status_code == 200
    # When it asks again, on the form and on the API, Then both answers are 429 with Retry-After
    for response in (client.post("/subscribe", data={"email": "eager@example.org"}),
                     client.post("/api/subscribers", json={"email": "eager@example.org"})):
        assert response.status_code == 429
        assert 1 <= int(response.headers["retry-after"]) <= rt.settings.subscribe_limit_window_seconds


def test_uvicorn_believes_no_proxy_headers_itself(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # Given uvicorn, which by default believes X-Forwarded-For from loopback
    import uvicorn

    from services.cli import _serve

    options: dict[str, object] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **given: options.update(given))
    # When the CLI serves the app, Then uvicorn's proxy-header handling is off (the app's trusted list decides)
    _serve(object(), host="127.0.0.1", port=8000)  # type: ignore[arg-type]
    assert options["proxy_headers"] is False
