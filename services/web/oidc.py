"""Staff single sign-on with OpenID Connect (Authlib's Starlette client), on when the issuer, client id and
client secret are set (``VERDICTS_OIDC_*``).

- **Discovery**: the issuer's ``/.well-known/openid-configuration`` (OpenID Connect Discovery 1.0 §4), read
  once; its ``issuer`` must equal the configured one exactly (§4.3), or no sign-in starts.
- **Flow**: authorization code with PKCE (RFC 7636, S256), a random ``state`` and ``nonce``. Authlib keeps
  them, the PKCE verifier and the redirect URI in the signed session cookie until the callback, and
  drops them there, so a callback is accepted once, and only in the browser that started it.
- **The ID token** is checked by Authlib against the issuer's JWKS (its signature; a key id it does not
  know fetches the key set once more) and its claims (OpenID Connect Core 1.0 §3.1.3.7): ``iss`` equals
  the configured issuer, ``aud`` holds our client id (passed explicitly: by itself Authlib checks the
  audience only through ``azp``), ``exp`` is not past (``LEEWAY_SECONDS`` of clock skew), ``nonce`` is
  the one this browser sent.
- **Who signs in** is ours to decide (``services.web.oidc_match``): an existing, active person with the
  token's verified email; never a new person, never another role.
- **Two factors**: the issuer's sign-in counts as both when its ID token says it checked more than one
  (``amr`` holds ``mfa``, RFC 8176). Otherwise a person enrolled in our TOTP two-factor sign-in is still asked
  for a code (``services.web.login_two_factor``), exactly as after a password. An admin without TOTP is sent
  to enrol when ``VERDICTS_REQUIRE_TWO_FACTOR_FOR_ADMINS`` says so, however they signed in.

A successful sign-in starts the same server-side session as the password form (``services.web.sessions``)
and is on the audit log as ``user.sso_sign_in``. The routes exist only while single sign-on is configured.
"""

from __future__ import annotations

import logging
import time

import httpx
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from authlib.integrations.starlette_client import OAuth, StarletteOAuth2App
from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from joserfc.errors import JoseError
from starlette.concurrency import run_in_threadpool

from services.core import limits
from services.core.settings import Settings
from services.web import login_two_factor, oidc_match, sessions, two_factor_accounts
from services.web.login import landing
from services.web.rendering import message

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)

START = "/login/sso"
CALLBACK = "/login/sso/callback"
#: The session key that keeps the page asked for (``next``) from the start of a sign-in to its callback.
NEXT = "sso_next"
#: Seconds of clock difference with the issuer tolerated on ``exp`` and ``iat``.
LEEWAY_SECONDS = 60
#: Seconds allowed for each call to the issuer (discovery, JWKS, token).
TIMEOUT_SECONDS = 10.0
#: What is asked of the issuer: an ID token (``openid``) with the person's address (``email``,
#: OpenID Connect Core 1.0 §5.4).
SCOPE = "openid email"


def discovery_url(issuer: str) -> str:
    """The discovery document of ``issuer``: its URL without a trailing slash, then
    ``/.well-known/openid-configuration`` (OpenID Connect Discovery 1.0 §4)."""
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


def install(app: FastAPI, settings: Settings) -> None:
    """Add single sign-on to ``app`` when ``settings`` configure it: the Authlib client (``app.state.oidc``)
    and the routes; the sign-in page's button reads the ``sso_name`` template global (None: no button)."""
    app.state.templates.env.globals["sso_name"] = settings.oidc_name if settings.oidc_enabled else None
    issuer, client_id, secret = settings.oidc_issuer, settings.oidc_client_id, settings.oidc_client_secret
    if issuer is None or client_id is None or secret is None:
        return
    app.state.oidc = OAuth().register(
        "sso", client_id=client_id, client_secret=secret.get_secret_value(), server_metadata_url=discovery_url(issuer),
        client_kwargs={"scope": SCOPE, "code_challenge_method": "S256", "timeout": TIMEOUT_SECONDS},
    )
    app.include_router(router)


async def _page(request: Request, title: str, text: str, status_code: int) -> HTMLResponse:
    # the page looks the signed-in user up in the database: in the thread pool, like a plain handler
    return await run_in_threadpool(message, request, title, text, status_code)


@router.get(START, response_model=None)
async def start(request: Request, next: str = Query("", max_length=limits.URL)) -> Response:
    """Send the browser to the issuer's sign-in (302), with PKCE, state and nonce, keeping ``next`` (the page to
    land on, a local path: ``services.web.login.landing``) for the callback; 502 when the issuer's discovery
    document cannot be read or names another issuer."""
    client: StarletteOAuth2App = request.app.state.oidc
    settings: Settings = request.app.state.runtime.settings
    try:
        metadata = await client.load_server_metadata()
    except (httpx.HTTPError, ValueError) as exc:
        log.warning("single sign-on: cannot read the discovery document of %s: %s", settings.oidc_issuer, exc)
        return await _page(request, "Single sign-on is unavailable",
                           "The identity provider cannot be reached. Try again later, or sign in with your password.",
                           502)
    if metadata.get("issuer") != settings.oidc_issuer:
        named = str(metadata.get("issuer"))[:limits.URL]
        log.error("single sign-on: the discovery document names issuer %r, not the configured %r",
                  named, settings.oidc_issuer)
        return await _page(request, "Single sign-on is unavailable",
                           f"The configured issuer (VERDICTS_OIDC_ISSUER) is {settings.oidc_issuer}, but the identity "
                           f"provider's discovery document names {named}. They must match exactly, a trailing "
                           "slash included: an admin needs to correct VERDICTS_OIDC_ISSUER. Until then, sign in "
                           "with your password.", 502)
    request.session[NEXT] = next
    return await client.authorize_redirect(request, settings.public_url + CALLBACK)  # type: ignore[no-any-return]


@router.get(CALLBACK, response_model=None)
async def callback(request: Request) -> Response:
    """Finish a sign-in the issuer sent back: 303 to the page asked for at the start (or the person's home
    page) with a new session; 400 for a callback this browser did not start (or already used) and for an ID
    token that fails its checks; 403 when the token opens no account (``services.web.oidc_match``); 502 when
    the issuer cannot be reached."""
    client: StarletteOAuth2App = request.app.state.oidc
    settings: Settings = request.app.state.runtime.settings
    claims_options = {"iss": {"essential": True, "value": settings.oidc_issuer},
                      "aud": {"essential": True, "value": settings.oidc_client_id},
                      "exp": {"essential": True}}
    try:
        token = await client.authorize_access_token(request, claims_options=claims_options, leeway=LEEWAY_SECONDS)
    except MismatchingStateError:
        return await _page(request, "Sign-in expired",
                           "This sign-in was not started in this browser, was already used, or took too long. "
                           "Start again from the sign-in page.", 400)
    except OAuthError as exc:
        # its words stay in the log: the callback's ?error= is anyone's to write, so the page does not repeat it
        log.warning("single sign-on: the identity provider answered %r: %r", exc.error, exc.description)
        return await _page(request, "Single sign-on failed",
                           "The identity provider did not sign you in. Start again from the sign-in page.", 400)
    except JoseError as exc:
        log.warning("single sign-on: ID token refused: %r", exc)
        return await _page(request, "Single sign-on failed",
                           "The identity provider's answer could not be verified, so it signs no one in.", 400)
    except (httpx.HTTPError, ValueError) as exc:
        log.warning("single sign-on: the token endpoint failed: %s", exc)
        return await _page(request, "Single sign-on is unavailable",
                           "The identity provider cannot be reached. Try again later.", 502)
    claims = token.get("userinfo")
    if not claims:
        return await _page(request, "Single sign-on failed", "The identity provider sent no ID token.", 400)
    return await run_in_threadpool(_sign_in, request, dict(claims))


def _sign_in(request: Request, claims: dict[str, object]) -> Response:
    """Match the verified ``claims`` to a person and start their session, or first ask for their TOTP code when
    they have two-factor sign-in and the issuer did not check two factors; refuse (403) a token that opens no
    account."""
    runtime, now = request.app.state.runtime, time.time()
    issuer, next = runtime.settings.oidc_issuer, request.session.pop(NEXT, "")
    with runtime.sessions() as session, session.begin():
        try:
            user = oidc_match.staff_account(session, claims)
        except oidc_match.Refused as refused:
            log.warning("single sign-on refused for sub %r of %s: %r", claims.get("sub"), issuer, str(refused))
            reason = str(refused)
        else:
            second_step = two_factor_accounts.enrolled(user) and not oidc_match.issuer_checked_two_factors(claims)
            oidc_match.record_sign_in(session, user, claims, issuer, second_step)
            target = landing(user, next if isinstance(next, str) else "")
            if second_step:  # no session until the code (services/web/login_two_factor.py)
                return login_two_factor.ask(request, user, target, now)
            sessions.start(request, user, now)
            return RedirectResponse(target, status_code=303)
    return message(request, "Single sign-on refused", reason, 403)
