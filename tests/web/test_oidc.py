"""Staff single sign-on with OpenID Connect, against a small issuer of our own on loopback
(``tests/web/oidc_issuer.py``): a verified address of an active person signs them in with a server-side session
and an audit entry; anything else — an unverified address, an unknown or deactivated person, a callback this
browser did not start, an ID token signed by another key, for another audience or issuer, expired, or replayed
with an old nonce — signs no one in. A person with two-factor sign-in is still asked for a TOTP code unless
the issuer says it checked two factors itself."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pyotp
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select

from services.core.db.models import AuditEntry, User
from services.core.runtime import Runtime
from services.web import accounts, two_factor_accounts
from services.web.oidc import CALLBACK
from tests.web.conftest import add_user, client_with
from tests.web.live_server import free_port
from tests.web.oidc_issuer import LocalIssuer, issuing, new_key

CLIENT_ID = "verdicts-tests"
CLIENT_SECRET = "issuer-secret-for-tests"
EDITOR = "editor@example.org"


@pytest.fixture
def issuer() -> Iterator[LocalIssuer]:
    with issuing(CLIENT_ID, CLIENT_SECRET) as running:
        running.claims = {"email": EDITOR, "email_verified": True}
        yield running


def _browser(rt: Runtime, issuer: LocalIssuer) -> TestClient:
    """A browser on the app configured for single sign-on with ``issuer``."""
    return client_with(rt, oidc_issuer=issuer.url, oidc_client_id=CLIENT_ID,
                       oidc_client_secret=SecretStr(CLIENT_SECRET), oidc_name="Example ID")


def _to_issuer_and_back(browser: TestClient) -> str:
    """Start single sign-on and follow the issuer's sign-in like a browser: our callback's path and query."""
    return _to_issuer_and_back_from(browser, "/login/sso")


def _to_issuer_and_back_from(browser: TestClient, start: str) -> str:
    to_issuer = browser.get(start, follow_redirects=False)
    assert to_issuer.status_code == 302, to_issuer.text
    back = httpx.get(to_issuer.headers["location"], follow_redirects=False)
    assert back.status_code == 302, back.text
    callback = urlsplit(back.headers["location"])
    assert f"{callback.scheme}://{callback.netloc}{callback.path}" == f"https://verdicts.example.org{CALLBACK}"
    return f"{callback.path}?{callback.query}"


def _sign_in(browser: TestClient) -> httpx.Response:
    return browser.get(_to_issuer_and_back(browser), follow_redirects=False)


def _signed_in(browser: TestClient) -> bool:
    return browser.get("/editor/queue", follow_redirects=False).status_code == 200


def _sso_audit(rt: Runtime) -> list[AuditEntry]:
    with rt.sessions() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == "user.sso_sign_in")))


def test_the_sign_in_page_offers_single_sign_on_only_when_it_is_configured(rt: Runtime, issuer: LocalIssuer,
                                                                         client: TestClient) -> None:
    # Given one app without single sign-on and one configured for an issuer named "Example ID"
    # When each shows its sign-in page
    # Then only the configured one offers it, and only there do its routes exist
    assert "Sign in with" not in client.get("/login").text
    assert client.get("/login/sso", follow_redirects=False).status_code == 404
    page = _browser(rt, issuer).get("/login").text
    assert 'href="/login/sso">Sign in with Example ID</a>' in page


def test_a_staff_member_whose_issuer_verified_their_address_is_signed_in(rt: Runtime, issuer: LocalIssuer) -> None:
    # Given an active editor, and an issuer that vouches for the same address (spelled in another case)
    user = add_user(rt, EDITOR, "editor")
    issuer.claims = {"email": "Editor@Example.ORG", "email_verified": True}
    browser = _browser(rt, issuer)
    # When they sign in with the issuer
    response = _sign_in(browser)
    # Then the authorization request used PKCE (S256), a state and a nonce,
    [asked] = issuer.authorize_requests
    assert asked["code_challenge_method"] == "S256" and asked["code_challenge"] and asked["state"] and asked["nonce"]
    assert asked["redirect_uri"] == f"https://verdicts.example.org{CALLBACK}"
    # and they land on the editor's home page with a session that opens editor pages,
    assert response.status_code == 303 and response.headers["location"] == "/editor/queue"
    assert _signed_in(browser)
    # the sign-in is on the audit log with the issuer and the token's subject,
    [entry] = _sso_audit(rt)
    assert entry.user_id == user.id and entry.subject == f"user:{user.id}"
    assert entry.detail == {"email": EDITOR, "issuer": issuer.url, "sub": "person-1", "issuer_two_factors": False,
                            "second_step": False}
    # and the session is the server-side one: deactivating the person ends it
    with rt.sessions() as session, session.begin():
        accounts.deactivate(session, session.get_one(User, user.id), by=None)
    assert not _signed_in(browser)


@pytest.mark.parametrize("verified", [False, "true", None], ids=["false", "a-string", "missing"])
def test_an_address_the_issuer_has_not_verified_is_refused(rt: Runtime, issuer: LocalIssuer, verified: Any) -> None:
    # Given an active editor, and an issuer whose ID token does not say the address is verified (JSON true)
    add_user(rt, EDITOR, "editor")
    issuer.claims = {"email": EDITOR} if verified is None else {"email": EDITOR, "email_verified": verified}
    browser = _browser(rt, issuer)
    # When they sign in with the issuer
    response = _sign_in(browser)
    # Then they are refused, saying why, and nothing is signed in or audited
    assert response.status_code == 403
    assert "has not verified the address editor@example.org" in response.text
    assert not _signed_in(browser) and _sso_audit(rt) == []


@pytest.mark.parametrize("who", ["unknown", "deactivated"])
def test_an_unknown_or_deactivated_person_is_refused(rt: Runtime, issuer: LocalIssuer, who: str) -> None:
    # Given an issuer that vouches for an address no active person here has
    if who == "deactivated":
        user = add_user(rt, EDITOR, "editor")
        with rt.sessions() as session, session.begin():
            accounts.deactivate(session, session.get_one(User, user.id), by=None)
    browser = _browser(rt, issuer)
    # When that person signs in with the issuer
    response = _sign_in(browser)
    # Then they are refused (no account is created), and nothing is signed in or audited
    assert response.status_code == 403 and "No active staff account has the address" in response.text
    with rt.sessions() as session:
        assert session.scalars(select(User)).all() == ([] if who == "unknown" else [session.get(User, user.id)])
    assert not _signed_in(browser) and _sso_audit(rt) == []


def test_a_callback_with_a_state_this_browser_did_not_start_is_refused(rt: Runtime, issuer: LocalIssuer) -> None:
    # Given an editor's browser that went to the issuer and came back with a code
    add_user(rt, EDITOR, "editor")
    browser = _browser(rt, issuer)
    callback = urlsplit(_to_issuer_and_back(browser))
    query = {name: values[0] for name, values in parse_qs(callback.query).items()}
    # When the callback comes with another state, or in another browser (a login CSRF)
    forged = browser.get(f"{callback.path}?{urlencode({**query, 'state': 'forged'})}", follow_redirects=False)
    elsewhere = _browser(rt, issuer).get(f"{callback.path}?{callback.query}", follow_redirects=False)
    # Then both are refused before the code is redeemed, and no one is signed in
    assert forged.status_code == 400 and elsewhere.status_code == 400
    assert "was not started in this browser" in forged.text
    assert issuer.token_requests == 0
    assert not _signed_in(browser) and _sso_audit(rt) == []


def test_a_callback_is_accepted_only_once(rt: Runtime, issuer: LocalIssuer) -> None:
    # Given an editor signed in with the issuer, and the callback address they came back to
    add_user(rt, EDITOR, "editor")
    browser = _browser(rt, issuer)
    callback = _to_issuer_and_back(browser)
    assert browser.get(callback, follow_redirects=False).status_code == 303
    # When the same callback is sent again
    again = browser.get(callback, follow_redirects=False)
    # Then it is refused: its state was used up
    assert again.status_code == 400 and len(_sso_audit(rt)) == 1


def test_an_id_token_signed_by_another_key_is_refused(rt: Runtime, issuer: LocalIssuer) -> None:
    # Given an issuer that signs its ID token with a key it does not publish (under the published key's id)
    add_user(rt, EDITOR, "editor")
    issuer.signing_key = new_key()
    browser = _browser(rt, issuer)
    # When an editor signs in with it
    response = _sign_in(browser)
    # Then the token fails its signature check and no one is signed in
    assert response.status_code == 400 and "could not be verified" in response.text
    assert not _signed_in(browser) and _sso_audit(rt) == []


@pytest.mark.parametrize("change", [
    {"audience": "another-client"},
    {"audience": ["another-client"], "claims": {"azp": CLIENT_ID}},  # Authlib alone would let this one in
    {"issuer": "https://issuer.example.net"},
    {"lifetime": -300},  # expired five minutes ago, past the leeway
], ids=["another-audience", "another-audience-with-our-azp", "another-issuer", "expired"])
def test_an_id_token_for_another_audience_or_issuer_or_expired_is_refused(rt: Runtime, issuer: LocalIssuer,
                                                                          change: dict[str, Any]) -> None:
    # Given an issuer whose ID token names another audience or issuer, or has expired
    add_user(rt, EDITOR, "editor")
    for name, value in change.items():
        setattr(issuer, name, {**issuer.claims, **value} if name == "claims" else value)
    browser = _browser(rt, issuer)
    # When an editor signs in with it
    response = _sign_in(browser)
    # Then the token fails its claim checks and no one is signed in
    assert response.status_code == 400 and "could not be verified" in response.text
    assert not _signed_in(browser) and _sso_audit(rt) == []


def test_an_id_token_replayed_into_a_new_sign_in_is_refused_by_its_nonce(rt: Runtime, issuer: LocalIssuer) -> None:
    # Given an editor who signed in with the issuer once, and signed out
    add_user(rt, EDITOR, "editor")
    first = _browser(rt, issuer)
    assert _sign_in(first).status_code == 303
    [old_token] = issuer.issued
    # When a new sign-in gets that earlier (validly signed, unexpired) ID token instead of a fresh one
    issuer.replay = old_token
    browser = _browser(rt, issuer)
    response = _sign_in(browser)
    # Then its nonce is not the one this sign-in sent, and no one is signed in
    assert response.status_code == 400 and "could not be verified" in response.text
    assert not _signed_in(browser) and len(_sso_audit(rt)) == 1


def _enrol(rt: Runtime, user: User) -> str:
    """Turn on ``user``'s two-factor sign-in, confirmed an hour ago; the TOTP secret."""
    an_hour_ago = time.time() - 3600
    with rt.sessions() as session, session.begin():
        stored = session.get_one(User, user.id)
        secret = two_factor_accounts.start_enrolment(session, rt.settings.secret(), stored)
        assert two_factor_accounts.confirm_enrolment(session, rt.settings.secret(), stored,
                                                     pyotp.TOTP(secret).at(an_hour_ago), an_hour_ago)
    return secret


def test_a_person_with_two_factor_sign_in_is_still_asked_for_a_code_after_single_sign_on(
        rt: Runtime, issuer: LocalIssuer) -> None:
    # Given an editor with two-factor sign-in, and an issuer that does not say it checked two factors
    secret = _enrol(rt, add_user(rt, EDITOR, "editor"))
    issuer.claims = {**issuer.claims, "amr": ["pwd"]}
    browser = _browser(rt, issuer)
    # When they sign in with the issuer
    response = _sign_in(browser)
    # Then they are asked for their code, and nothing opens before it
    assert response.status_code == 303 and response.headers["location"] == "/login/two-factor"
    assert not _signed_in(browser)
    # And with the code they land on their home page, signed in
    token = re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/login/two-factor").text)
    assert token
    done = browser.post("/login/two-factor", data={"code": pyotp.TOTP(secret).now(), "csrf_token": token.group(1)},
                        follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/editor/queue"
    assert _signed_in(browser)
    [entry] = _sso_audit(rt)
    assert entry.detail["second_step"] is True and entry.detail["issuer_two_factors"] is False


def test_an_issuer_that_checked_two_factors_counts_as_the_second_step(rt: Runtime, issuer: LocalIssuer) -> None:
    # Given an editor with two-factor sign-in, and an issuer whose ID token says it checked two factors (RFC 8176)
    _enrol(rt, add_user(rt, EDITOR, "editor"))
    issuer.claims = {**issuer.claims, "amr": ["pwd", "otp", "mfa"]}
    browser = _browser(rt, issuer)
    # When they sign in with the issuer
    response = _sign_in(browser)
    # Then they are signed in at once, and the audit log says why no code was asked
    assert response.status_code == 303 and response.headers["location"] == "/editor/queue"
    assert _signed_in(browser)
    [entry] = _sso_audit(rt)
    assert entry.detail["second_step"] is False and entry.detail["issuer_two_factors"] is True


def test_a_discovery_document_naming_another_issuer_starts_no_sign_in(rt: Runtime, issuer: LocalIssuer) -> None:
    # Given an issuer whose discovery document names another issuer than the configured one
    published = issuer.discovery()
    issuer.discovery = lambda: {**published, "issuer": "https://elsewhere.example.net"}  # type: ignore[method-assign]
    # When someone starts single sign-on
    response = _browser(rt, issuer).get("/login/sso", follow_redirects=False)
    # Then no browser is sent there, and the page says which issuers differ and what an admin must correct
    assert response.status_code == 502 and "VERDICTS_OIDC_ISSUER" in response.text
    assert f"is {issuer.url}, but" in response.text and "names https://elsewhere.example.net." in response.text
    assert issuer.authorize_requests == []


def test_an_issuer_configured_with_a_trailing_slash_its_tokens_lack_is_named_on_the_502_page(
        rt: Runtime, issuer: LocalIssuer) -> None:
    # Given single sign-on configured with the issuer's URL plus a trailing slash the issuer does not write
    browser = client_with(rt, oidc_issuer=issuer.url + "/", oidc_client_id=CLIENT_ID,
                          oidc_client_secret=SecretStr(CLIENT_SECRET))
    # When someone starts single sign-on
    response = browser.get("/login/sso", follow_redirects=False)
    # Then discovery is still read, but no browser is sent on: the page says the configured issuer does not
    # match the one the discovery document names
    assert response.status_code == 502
    assert f"is {issuer.url}/, but" in response.text and f"names {issuer.url}." in response.text
    assert "trailing slash" in response.text and issuer.authorize_requests == []


def test_an_issuer_that_cannot_be_reached_is_reported_and_signs_no_one_in(rt: Runtime) -> None:
    # Given single sign-on configured for an issuer on a loopback port where nothing listens
    browser = client_with(rt, oidc_issuer=f"http://127.0.0.1:{free_port()}", oidc_client_id=CLIENT_ID,
                          oidc_client_secret=SecretStr(CLIENT_SECRET))
    # When someone starts single sign-on
    response = browser.get("/login/sso", follow_redirects=False)
    # Then the page says the provider cannot be reached (502) and points to the password
    assert response.status_code == 502 and "sign in with your password" in response.text


def test_an_error_the_issuer_sends_back_signs_no_one_in_and_is_not_repeated_on_the_page(
        rt: Runtime, issuer: LocalIssuer) -> None:
    # Given a browser that started single sign-on
    add_user(rt, EDITOR, "editor")
    browser = _browser(rt, issuer)
    state = parse_qs(urlsplit(browser.get("/login/sso", follow_redirects=False).headers["location"]).query)["state"][0]
    # When the callback brings an error instead of a code (the person declined, or someone wrote the link)
    text = "Your account is locked, call 555-0100"
    query = urlencode({"error": "access_denied", "error_description": text, "state": state})
    response = browser.get(f"{CALLBACK}?{query}", follow_redirects=False)
    # Then no one is signed in, and the page says so in our words only
    assert response.status_code == 400 and "did not sign you in" in response.text
    assert "555-0100" not in response.text and "access_denied" not in response.text
    assert not _signed_in(browser) and issuer.token_requests == 0


def test_single_sign_on_lands_on_the_page_that_asked_for_it_and_never_on_another_site(
        rt: Runtime, issuer: LocalIssuer) -> None:
    # Given an editor sent to sign in from the comparisons page
    add_user(rt, EDITOR, "editor")
    browser = _browser(rt, issuer)
    login_page = browser.get("/login?next=/editor/comparisons").text
    assert 'href="/login/sso?next=/editor/comparisons"' in login_page
    # When they sign in with the issuer from there, Then they land on that page
    callback = _to_issuer_and_back_from(browser, "/login/sso?next=/editor/comparisons")
    assert browser.get(callback, follow_redirects=False).headers["location"] == "/editor/comparisons"
    # And a next that names another site lands on their home page instead
    callback = _to_issuer_and_back_from(browser, "/login/sso?next=//evil.example.net/")
    assert browser.get(callback, follow_redirects=False).headers["location"] == "/editor/queue"
