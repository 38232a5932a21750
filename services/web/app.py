"""The web app factory: public pages, editor pages, health checks."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from fastapi.templating import Jinja2Templates
from starlette.middleware.sessions import SessionMiddleware
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from services.core.runtime import Runtime
from services.web.auth import LoginRequired, TwoFactorEnrolmentRequired

TEMPLATES = Path(__file__).with_name("templates")


def create_app(runtime: Runtime) -> FastAPI:
    from services.web import account, account_two_factor, errors, login, login_two_factor, oidc, rendering
    from services.web.api import reports as reports_api
    from services.web.api import review as review_api
    from services.web.api import subscribers as subscribers_api
    from services.web.editor import digests as editor_digests
    from services.web.editor import hooks as editor_hooks
    from services.web.editor import reports as editor_reports
    from services.web.editor import routes as editor_routes
    from services.web.editor import sends as editor_sends
    from services.web.editor import sources as editor_sources
    from services.web.ops import api as ops_api
    from services.web.ops import health
    from services.web.ops import metrics as ops_metrics
    from services.web.ops import pages as ops_pages
    from services.web.public import archive as public_archive
    from services.web.public import browse, feeds, og_image, pages, seo, subscribers, votes
    from services.web.webhooks import sendgrid as sendgrid_webhook

    settings = runtime.settings
    app = FastAPI(title="verdicts", openapi_url="/api/openapi.json", docs_url=None, redoc_url=None)
    app.state.runtime = runtime
    app.state.templates = Jinja2Templates(directory=str(TEMPLATES))
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret(),
        session_cookie="verdicts_session",
        same_site="lax",
        https_only=settings.public_url.startswith("https://"),
        max_age=settings.session_lifetime_seconds,  # the server checks it too (services/web/sessions.py)
    )

    # The client address is the peer's, or X-Forwarded-For's rightmost untrusted one when the peer is a
    # configured proxy (none by default); added last, so it runs first.
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.trusted_proxies))

    @app.exception_handler(LoginRequired)
    async def _to_login(request: Request, _exc: LoginRequired) -> RedirectResponse:
        return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)

    @app.exception_handler(TwoFactorEnrolmentRequired)
    async def _to_enrolment(_request: Request, _exc: TwoFactorEnrolmentRequired) -> RedirectResponse:
        return RedirectResponse("/account/two-factor", status_code=303)

    rendering.install(app)
    oidc.install(app, settings)  # single sign-on, when configured
    errors.install(app)
    for router in (pages.router, subscribers.router, login.router, login_two_factor.router, account.router,
                   account_two_factor.router, editor_routes.router,
                   health.router, votes.router, review_api.router, editor_digests.router, public_archive.router,
                   subscribers_api.router, editor_sends.router, sendgrid_webhook.router,
                   ops_pages.router, ops_api.router, ops_metrics.router, editor_sources.router, browse.router, feeds.router, seo.router,
                   og_image.router, editor_hooks.router, editor_reports.router, reports_api.router):
        app.include_router(router)
    return app
