"""Editor pages for outgoing webhooks: register an endpoint (its secret shown once), remove it, list its
deliveries with their last attempts, replay one or every failed delivery. Editors and admins only.

The form's lengths are stated in the schema (the page's inputs carry the same ``maxlength``); what the form
cannot show (a refused address, an unknown event type, an endpoint already registered) answers the page with
the form and the reason (422). Ids in the path are typed row ids, as on every other page: past the database's
range is a 422, an id that names no row the not-found page (404)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from services.core import limits
from services.core.db.models import User
from services.core.domain import Role
from services.hooks import deliveries, endpoints
from services.hooks.errors import HookRefused
from services.web.auth import require
from services.web.csrf import csrf_protected
from services.web.db import DbSession
from services.web.ids import RowId
from services.web.rendering import noted_redirect, page

router = APIRouter(prefix="/editor/hooks")
editor = require(Role.EDITOR)
protected = [Depends(csrf_protected)]


def _list_page(request: Request, session: Session, status_code: int = 200, *, error: str | None = None,
               form: dict[str, object] | None = None, created: endpoints.NewEndpoint | None = None) -> HTMLResponse:
    """The endpoints page; ``error`` and ``form`` (as typed) when a registration was refused, ``created``
    (with its secret, shown this once, and kept out of every cache: ``Cache-Control: no-store``) right
    after one succeeded."""
    answer = page(request, "editor_hooks.html", status_code, rows=endpoints.endpoint_rows(session),
                  event_types=endpoints.EVENT_TYPES, flash=request.session.pop("flash", None), error=error,
                  form=form or {"url": "", "description": "", "event_types": list(endpoints.EVENT_TYPES)},
                  created=created)
    if created is not None:
        answer.headers["Cache-Control"] = "no-store"
    return answer


@router.get("", response_class=HTMLResponse)
def hook_list(request: Request, session: DbSession, user: User = Depends(editor)) -> HTMLResponse:
    return _list_page(request, session)


@router.post("", dependencies=protected, response_class=HTMLResponse)
def hook_add(request: Request, session: DbSession, url: str = Form("", max_length=limits.URL),
             description: str = Form("", max_length=limits.HOOK_DESCRIPTION),
             event_types: Annotated[list[str], Form()] = [],  # noqa: B006
             user: User = Depends(editor)) -> HTMLResponse:
    """Register an endpoint; answers the page with its secret (201, not to be cached), or 422 with the form
    as typed (cut to the fields' limits) and why."""
    try:
        made = endpoints.register(session, url, description, event_types,
                                  allow_private_networks=request.app.state.runtime.settings.allow_private_networks,
                                  user_id=user.id)
    except HookRefused as exc:
        typed = {"url": limits.clip(url, limits.URL), "description": limits.clip(description, limits.HOOK_DESCRIPTION),
                 "event_types": [name for name in endpoints.EVENT_TYPES if name in event_types]}
        return _list_page(request, session, 422, error=f"Not added: {exc}", form=typed)
    return _list_page(request, session, 201, created=made)


@router.get("/{endpoint_id}", response_class=HTMLResponse)
def hook_detail(request: Request, endpoint_id: RowId, session: DbSession, user: User = Depends(editor)) -> HTMLResponse:
    endpoint = endpoints.get(session, endpoint_id)
    return page(request, "editor_hook.html", endpoint=endpoint, rows=deliveries.delivery_rows(session, endpoint.id),
                flash=request.session.pop("flash", None))


@router.post("/{endpoint_id}/remove", dependencies=protected, response_model=None)
def hook_remove(request: Request, endpoint_id: RowId, session: DbSession, user: User = Depends(editor)) -> Response:
    removed = endpoints.remove(session, endpoint_id, user_id=user.id)
    return noted_redirect(request, "/editor/hooks", f"Removed webhook endpoint {removed.id} ({removed.url}).")


@router.post("/{endpoint_id}/deliveries/{delivery_id}/replay", dependencies=protected, response_model=None)
def hook_replay(request: Request, endpoint_id: RowId, delivery_id: RowId, session: DbSession,
                user: User = Depends(editor)) -> Response:
    again = deliveries.replay(session, endpoint_id, delivery_id, user_id=user.id)
    return noted_redirect(request, f"/editor/hooks/{endpoint_id}",
                 f"Delivery {delivery_id} will be sent again as delivery {again.id}.")


@router.post("/{endpoint_id}/replay-failed", dependencies=protected, response_model=None)
def hook_replay_failed(request: Request, endpoint_id: RowId, session: DbSession,
                       user: User = Depends(editor)) -> Response:
    made = deliveries.replay_failed(session, endpoint_id, user_id=user.id)
    return noted_redirect(request, f"/editor/hooks/{endpoint_id}", f"{len(made)} failed delivery(ies) will be sent again.")
