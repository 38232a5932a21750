"""Two-factor sign-in for staff: enrolment confirmed by a code, recovery codes shown once and usable once, a second
sign-in step that opens nothing until it is passed and is throttled like the password, admins sent to enrol
when the setting says so, turning it off and new recovery codes, all on the audit log.

Codes are made with pyotp from the secret the enrolment page shows, at a clock pinned for the test (the
handlers' ``time``), so no test depends on when it runs.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.core.db.models import AuditEntry, RecoveryCode, User
from services.core.runtime import Runtime
from services.web import account_two_factor, accounts, login, login_two_factor, two_factor, two_factor_accounts
from tests.web.conftest import PASSWORD, add_user, client_with, csrf, sign_in

_SECRET = re.compile(r'<code class="totp-secret">([A-Z2-7]+)</code>')
_CODES = re.compile(r"<li><code>([a-z2-7]{5}-[a-z2-7]{5})</code></li>")


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch) -> float:
    """The sign-in and account handlers' clock, stopped at the test's start (epoch seconds)."""
    pinned = time.time()
    for module in (login, login_two_factor, account_two_factor):
        monkeypatch.setattr(module, "time", SimpleNamespace(time=lambda: pinned))
    return pinned


def _code(secret: str, now: float, steps: int = 0) -> str:
    """The TOTP code of ``secret`` at ``now`` moved by ``steps`` 30-second steps."""
    return pyotp.TOTP(secret).at(now, counter_offset=steps)


def _client(rt: Runtime, **settings: object) -> TestClient:
    """A browser on an app with ``settings``, counting failed sign-ins in a Redis namespace of its own."""
    return client_with(rt, redis_namespace=f"{rt.settings.redis_namespace}-{uuid.uuid4().hex}", **settings)


def _enrolled(rt: Runtime, email: str, role: str = "editor") -> tuple[User, str, list[str]]:
    """A person enrolled an hour ago (so no code of now was used yet): the user, the TOTP secret, recovery codes."""
    user = add_user(rt, email, role)
    an_hour_ago = time.time() - 3600
    with rt.sessions() as session, session.begin():
        stored = session.get_one(User, user.id)
        secret = two_factor_accounts.start_enrolment(session, rt.settings.secret(), stored)
        codes = two_factor_accounts.confirm_enrolment(session, rt.settings.secret(), stored,
                                                      _code(secret, an_hour_ago), an_hour_ago)
    assert codes is not None
    return user, secret, codes


def _password_step(client: TestClient, email: str, next: str = ""):  # type: ignore[no-untyped-def]
    return client.post("/login", data={"email": email, "password": PASSWORD, "next": next, "csrf_token": csrf(client)},
                       follow_redirects=False)


def _code_step(client: TestClient, code: str):  # type: ignore[no-untyped-def]
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login/two-factor").text)
    return client.post("/login/two-factor", data={"code": code, "csrf_token": token.group(1) if token else ""},
                       follow_redirects=False)


def _actions(rt: Runtime) -> list[str]:
    with rt.sessions() as session:
        return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def _post(client: TestClient, path: str, **data: str):  # type: ignore[no-untyped-def]
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/account/two-factor").text)
    assert token, "the page carries a CSRF token"
    return client.post(path, data={**data, "csrf_token": token.group(1)}, follow_redirects=False)


def _all_at_once(monkeypatch: pytest.MonkeyPatch, requests: list[Callable[[], int]]) -> list[int]:
    """The status codes of ``requests`` (each its own browser, its own thread and database session) run so that
    every one has read and checked its code before any of them writes: they wait for each other where the
    writes begin (``two_factor_accounts._lock_user``). The worst interleaving, forced, not left to timing."""
    barrier = threading.Barrier(len(requests), timeout=60)
    lock_user = two_factor_accounts._lock_user

    def read_then_wait(session: Session, user: User) -> None:
        barrier.wait()
        lock_user(session, user)

    monkeypatch.setattr(two_factor_accounts, "_lock_user", read_then_wait)
    with ThreadPoolExecutor(len(requests)) as pool:
        return sorted(pool.map(lambda request: request(), requests))


def _token(client: TestClient, path: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert found, f"{path} carries a CSRF token"
    return found.group(1)


def _poster(client: TestClient, path: str, form: str, code: str) -> Callable[[], int]:
    """A POST of ``code`` to ``path`` from ``client``, ready to send (its CSRF token read from ``form`` now)."""
    token = _token(client, form)
    return lambda: client.post(path, data={"code": code, "csrf_token": token}, follow_redirects=False).status_code


def test_enrolment_is_confirmed_only_by_a_valid_code_and_shows_ten_recovery_codes_once(rt: Runtime, now: float) -> None:
    # Given a signed-in editor who starts enrolment
    user = add_user(rt, "ed@example.org", "editor")
    client = _client(rt)
    sign_in(client, user.email)
    assert _post(client, "/account/two-factor/start").status_code == 303
    page = client.get("/account/two-factor")
    # Then the page shows a QR code as inline SVG and the key as text, and two-factor sign-in is not on yet
    assert page.headers["cache-control"] == "no-store"
    assert '<svg' in page.text and 'class="segno"' in page.text
    secret = _SECRET.search(page.text).group(1)  # type: ignore[union-attr]
    assert "otpauth://totp/Verdicts:ed%40example.org?secret=" + secret in two_factor.otpauth_uri(secret, user.email)
    with rt.sessions() as session:
        stored = session.get_one(User, user.id)
        assert stored.two_factor_at is None
        # And the secret is stored sealed, not in the clear
        assert stored.totp_secret and secret not in stored.totp_secret
        assert two_factor.unseal(rt.settings.secret(), stored.totp_secret) == secret
    # When a wrong code is typed, Then it is refused and nothing turns on
    wrong = _post(client, "/account/two-factor/confirm", code="000000" if _code(secret, now) != "000000" else "111111")
    assert wrong.status_code == 400 and "not right" in wrong.text
    # When the app's current code is typed
    done = _post(client, "/account/two-factor/confirm", code=_code(secret, now))
    # Then it is on, and ten different recovery codes are shown, this once
    assert done.status_code == 200 and done.headers["cache-control"] == "no-store"
    codes = _CODES.findall(done.text)
    assert len(set(codes)) == 10
    assert _CODES.findall(client.get("/account/two-factor").text) == []
    assert "Two-factor sign-in is <strong>on</strong>" in client.get("/account/two-factor").text
    # And they are stored only as argon2 hashes
    with rt.sessions() as session:
        hashes = list(session.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id)))
        assert session.get_one(User, user.id).two_factor_at is not None
    assert len(hashes) == 10 and all(h.startswith("$argon2") for h in hashes)
    assert not any(code.replace("-", "") in h for h in hashes for code in codes)
    # And the browser that enrolled stays signed in, and the change is on the audit log
    assert client.get("/account", follow_redirects=False).status_code == 200
    assert "user.enable_two_factor" in _actions(rt)


def test_after_the_password_no_page_opens_until_a_valid_code_is_given(rt: Runtime, now: float) -> None:
    # Given an enrolled editor
    user, secret, _codes = _enrolled(rt, "ed@example.org")
    client = _client(rt)
    # When they give the right password
    first = _password_step(client, user.email, next="/editor/comparisons")
    # Then they are asked for a code, and the half-signed-in browser opens no private page
    assert first.status_code == 303 and first.headers["location"] == "/login/two-factor"
    for path in ("/editor/queue", "/account", "/account/two-factor", "/editor/audit"):
        refused = client.get(path, follow_redirects=False)
        assert refused.status_code == 303 and refused.headers["location"].startswith("/login"), path
    # When a wrong code is given, Then it is refused
    assert _code_step(client, "12345x").status_code == 401
    # When the app's code is given, Then the session starts and they land where they were going
    done = _code_step(client, _code(secret, now))
    assert done.status_code == 303 and done.headers["location"] == "/editor/comparisons"
    assert client.get("/editor/queue", follow_redirects=False).status_code == 200
    # And the same code does not sign in a second time (RFC 6238 §5.2)
    other = _client(rt)
    _password_step(other, user.email)
    assert _code_step(other, _code(secret, now)).status_code == 401
    assert _code_step(other, _code(secret, now, 1)).status_code == 303


def test_a_recovery_code_signs_in_once(rt: Runtime, now: float) -> None:
    # Given an enrolled editor with their recovery codes
    user, _secret, codes = _enrolled(rt, "ed@example.org")
    # When they sign in with a recovery code typed in upper case
    client = _client(rt)
    _password_step(client, user.email)
    assert _code_step(client, codes[3].upper()).status_code == 303
    # Then it is on the audit log, and that code does not work again while the others do
    assert "user.use_recovery_code" in _actions(rt)
    again = _client(rt)
    _password_step(again, user.email)
    assert _code_step(again, codes[3]).status_code == 401
    assert _code_step(again, codes[4]).status_code == 303
    with rt.sessions() as session:
        assert two_factor_accounts.recovery_codes_left(session, session.get_one(User, user.id)) == 8


def test_wrong_codes_lock_the_account_like_wrong_passwords(rt: Runtime, now: float) -> None:
    # Given an enrolled editor whose account allows 3 failures per window
    user, secret, _codes = _enrolled(rt, "ed@example.org")
    client = _client(rt, signin_failures_per_account=3)
    _password_step(client, user.email)
    # When three wrong codes are typed
    assert [_code_step(client, f"00000{i}").status_code for i in range(3)] == [401, 401, 401]
    # Then even the right code is refused with 429 and Retry-After, and so is the password step
    locked = _code_step(client, _code(secret, now))
    assert locked.status_code == 429 and 1 <= int(locked.headers["retry-after"]) <= rt.settings.signin_lock_seconds
    assert _password_step(client, user.email).status_code == 429


def test_a_new_password_voids_a_sign_in_waiting_for_its_code(rt: Runtime, now: float) -> None:
    # Given an enrolled editor who gave the password
    user, secret, _codes = _enrolled(rt, "ed@example.org")
    client = _client(rt)
    _password_step(client, user.email)
    # When an admin gives them a new password meanwhile
    with rt.sessions() as session, session.begin():
        accounts.set_password(session, session.get_one(User, user.id), "another long password", by=None)
    # Then the right code no longer finishes that sign-in
    response = _code_step(client, _code(secret, now))
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert client.get("/editor/queue", follow_redirects=False).headers["location"].startswith("/login")


def test_an_admin_without_two_factor_is_sent_to_enrol_when_the_setting_requires_it(rt: Runtime, now: float) -> None:
    # Given the setting on, an admin and an editor without two-factor sign-in
    admin = add_user(rt, "admin@example.org", "admin")
    editor = add_user(rt, "ed@example.org", "editor")
    client = _client(rt, require_two_factor_for_admins=True)
    sign_in(client, admin.email)
    # When the admin opens any page, Then they are sent to enrol
    for path in ("/editor/queue", "/account", "/ops", "/editor/audit"):
        sent = client.get(path, follow_redirects=False)
        assert sent.status_code == 303 and sent.headers["location"] == "/account/two-factor", path
    assert "before anything else" in client.get("/account/two-factor").text
    # When they enrol
    _post(client, "/account/two-factor/start")
    secret = _SECRET.search(client.get("/account/two-factor").text).group(1)  # type: ignore[union-attr]
    assert _post(client, "/account/two-factor/confirm", code=_code(secret, now)).status_code == 200
    # Then the pages open, and they may not turn it off
    assert client.get("/editor/queue", follow_redirects=False).status_code == 200
    refused = _post(client, "/account/two-factor/disable", code=_code(secret, now, 1))
    assert refused.status_code == 400 and "must keep" in refused.text
    # And an editor is not asked to enrol
    other = _client(rt, require_two_factor_for_admins=True)
    sign_in(other, editor.email)
    assert other.get("/editor/queue", follow_redirects=False).status_code == 200


def test_turning_it_off_needs_a_current_code_and_ends_the_other_sessions(rt: Runtime, now: float) -> None:
    # Given an enrolled editor signed in in two browsers
    user, secret, _codes = _enrolled(rt, "ed@example.org")
    browsers = [_client(rt), _client(rt)]
    for i, browser in enumerate(browsers):
        _password_step(browser, user.email)
        assert _code_step(browser, _code(secret, now, i - 1)).status_code == 303
    # When the first types a wrong code to turn it off, Then it stays on
    assert _post(browsers[0], "/account/two-factor/disable", code="abcde-fghij").status_code == 400
    # When they type the app's code
    off = _post(browsers[0], "/account/two-factor/disable", code=_code(secret, now, 1))
    # Then it is off: no secret, no recovery code, on the audit log; this browser stays, the other is signed out
    assert off.status_code == 303 and off.headers["location"] == "/account"
    with rt.sessions() as session:
        stored = session.get_one(User, user.id)
        assert (stored.two_factor_at, stored.totp_secret) == (None, None)
        assert two_factor_accounts.recovery_codes_left(session, stored) == 0
    assert "user.disable_two_factor" in _actions(rt)
    assert browsers[0].get("/account", follow_redirects=False).status_code == 200
    assert browsers[1].get("/account", follow_redirects=False).headers["location"].startswith("/login")
    # And the password alone signs in again
    assert _password_step(_client(rt), user.email).headers["location"] == "/editor/queue"


def test_new_recovery_codes_replace_the_old_ones(rt: Runtime, now: float) -> None:
    # Given an enrolled editor, signed in
    user, secret, old = _enrolled(rt, "ed@example.org")
    client = _client(rt)
    _password_step(client, user.email)
    _code_step(client, _code(secret, now))
    # When they ask for new recovery codes with the app's code
    page = _post(client, "/account/two-factor/recovery-codes", code=_code(secret, now, 1))
    new = _CODES.findall(page.text)
    # Then ten new codes are shown; an old one no longer signs in, a new one does
    assert page.status_code == 200 and len(set(new)) == 10 and not set(new) & set(old)
    assert "user.regenerate_recovery_codes" in _actions(rt)
    again = _client(rt)
    _password_step(again, user.email)
    assert _code_step(again, old[0]).status_code == 401
    assert _code_step(again, new[0]).status_code == 303


def test_the_sealed_secret_opens_only_with_the_secret_key_that_sealed_it() -> None:
    sealed = two_factor.seal("one secret key", "JBSWY3DPEHPK3PXP")
    assert "JBSWY3DPEHPK3PXP" not in sealed
    assert two_factor.unseal("one secret key", sealed) == "JBSWY3DPEHPK3PXP"
    with pytest.raises(two_factor.SecretUnreadable):
        two_factor.unseal("another secret key", sealed)


def test_an_admin_reset_turns_two_factor_off_on_the_audit_log(rt: Runtime, now: float) -> None:
    # Given an enrolled editor signed in
    user, secret, _codes = _enrolled(rt, "ed@example.org")
    client = _client(rt)
    _password_step(client, user.email)
    _code_step(client, _code(secret, now))
    # When an admin resets their two-factor sign-in
    admin = add_user(rt, "admin@example.org", "admin")
    with rt.sessions() as session, session.begin():
        assert two_factor_accounts.reset(session, session.get_one(User, user.id), by=admin.id)
    # Then their session ended, the password alone signs in, and the reset is on the audit log by the admin
    assert client.get("/account", follow_redirects=False).headers["location"].startswith("/login")
    assert _password_step(_client(rt), user.email).headers["location"] == "/editor/queue"
    with rt.sessions() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "user.reset_two_factor")).one()
        assert (entry.user_id, entry.detail["email"]) == (admin.id, user.email)
        # And a second reset changes nothing
        assert not two_factor_accounts.reset(session, session.get_one(User, user.id), by=admin.id)


def test_a_code_counts_one_step_either_side_of_now_and_never_for_a_step_already_used() -> None:
    # Given a secret and a fixed moment (so the steps are known)
    secret, now = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", 1_800_000_000.0
    step = pyotp.TOTP(secret).timecode(now)
    # Then the codes of the step before, now and after are accepted for their own step, spaces ignored
    assert [two_factor.accepted_step(secret, _code(secret, now, k), now, None) for k in (-1, 0, 1)] == \
        [step - 1, step, step + 1]
    assert two_factor.accepted_step(secret, _code(secret, now)[:3] + " " + _code(secret, now)[3:], now, None) == step
    # And codes two steps away, or of a step no later than the last one used, are not
    assert two_factor.accepted_step(secret, _code(secret, now, 2), now, None) is None
    assert two_factor.accepted_step(secret, _code(secret, now, -2), now, None) is None
    assert two_factor.accepted_step(secret, _code(secret, now), now, step) is None
    assert two_factor.accepted_step(secret, _code(secret, now, -1), now, step - 1) is None


@pytest.mark.parametrize("kind", ["recovery code", "totp"])
def test_a_code_sent_from_four_sign_ins_at_once_signs_in_exactly_one(any_runtime: Runtime, now: float,
                                                                      monkeypatch: pytest.MonkeyPatch,
                                                                      kind: str) -> None:
    rt = any_runtime
    # Given an enrolled editor, and four browsers past the password step
    user, secret, codes = _enrolled(rt, "ed@example.org")
    code = codes[0] if kind == "recovery code" else _code(secret, now)
    browsers = [_client(rt) for _ in range(4)]
    for browser in browsers:
        assert _password_step(browser, user.email).status_code == 303
    # When all four send the same code, each having checked it before any of them stores its use
    statuses = _all_at_once(monkeypatch, [_poster(b, "/login/two-factor", "/login/two-factor", code)
                                          for b in browsers])
    # Then exactly one is signed in, and the others are refused
    assert statuses == [303, 401, 401, 401]
    assert sum(b.get("/account", follow_redirects=False).status_code == 200 for b in browsers) == 1
    with rt.sessions() as session:
        stored = session.get_one(User, user.id)
        assert two_factor_accounts.recovery_codes_left(session, stored) == (9 if kind == "recovery code" else 10)
        used = list(session.scalars(select(AuditEntry).where(AuditEntry.action == "user.use_recovery_code")))
    # And a used recovery code is on the audit log once, with the true count left
    assert [entry.detail["left"] for entry in used] == ([9] if kind == "recovery code" else [])


def test_two_confirmations_of_one_enrolment_at_once_turn_it_on_once(any_runtime: Runtime, now: float,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    rt = any_runtime
    # Given an editor signed in in two browsers, with an enrolment started
    user = add_user(rt, "ed@example.org", "editor")
    browsers = [_client(rt), _client(rt)]
    for browser in browsers:
        sign_in(browser, user.email)
    _post(browsers[0], "/account/two-factor/start")
    secret = _SECRET.search(browsers[1].get("/account/two-factor").text).group(1)  # type: ignore[union-attr]
    # When both confirm with the app's code at once
    statuses = _all_at_once(monkeypatch, [_poster(b, "/account/two-factor/confirm", "/account/two-factor",
                                                  _code(secret, now)) for b in browsers])
    # Then exactly one turns it on (and shows recovery codes), the other is refused, and it is audited once
    assert statuses == [200, 400]
    assert _actions(rt).count("user.enable_two_factor") == 1
    with rt.sessions() as session:
        assert two_factor_accounts.recovery_codes_left(session, session.get_one(User, user.id)) == 10


def test_one_recovery_code_sent_twice_at_once_makes_new_codes_once(any_runtime: Runtime, now: float,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    rt = any_runtime
    # Given an enrolled editor signed in in two browsers
    user, secret, codes = _enrolled(rt, "ed@example.org")
    browsers = [_client(rt), _client(rt)]
    for i, browser in enumerate(browsers):
        _password_step(browser, user.email)
        assert _code_step(browser, _code(secret, now, i - 1)).status_code == 303
    # When both ask for new recovery codes with the same recovery code at once
    statuses = _all_at_once(monkeypatch, [_poster(b, "/account/two-factor/recovery-codes", "/account/two-factor",
                                                  codes[5]) for b in browsers])
    # Then exactly one gets new codes, the other is refused, and ten unused codes are stored
    assert statuses == [200, 400]
    assert _actions(rt).count("user.regenerate_recovery_codes") == 1
    with rt.sessions() as session:
        assert two_factor_accounts.recovery_codes_left(session, session.get_one(User, user.id)) == 10
