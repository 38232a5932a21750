"""Thin actors and event handlers of the digest package.

A test mail is sent inside its event's transaction: a crash after the send and before that commit
handles the event again and mails the test once more, which is acceptable for a test mail.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from services.core import events, runtime
from services.core.broker import actor
from services.core.db.models import Digest
from services.core.domain import iso_week
from services.digest import compose, previews
from services.mail.mailers import mailer_for


@actor("digest", max_retries=3)
def compile_digest(week: str | None = None) -> None:
    rt = runtime.current()
    week = week or iso_week(dt.datetime.now(ZoneInfo(rt.settings.digest_timezone)).date())
    with rt.sessions() as session, session.begin():
        compose.compile_week(session, rt.settings, week)


@events.handles("digest.test_due")
def _mail_test(session: Session, payload: events.Payload) -> None:
    digest = session.get(Digest, int(payload["digest_id"]))  # type: ignore[arg-type]
    if digest is not None:
        settings = runtime.current().settings
        previews.send_test(settings, mailer_for(settings), digest, str(payload["address"]))
