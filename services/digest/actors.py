"""Thin actors of the digest package."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from services.core import runtime
from services.core.broker import actor
from services.core.domain import iso_week
from services.digest import compose


@actor("digest", max_retries=3)
def compile_digest(week: str | None = None) -> None:
    rt = runtime.current()
    week = week or iso_week(dt.datetime.now(ZoneInfo(rt.settings.digest_timezone)).date())
    with rt.sessions() as session, session.begin():
        compose.compile_week(session, rt.settings, week)
