"""The editor's engagement report of a sent digest: ``/editor/digests/{week}/report``."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from services.core.db.models import User
from services.core.domain import Role
from services.delivery.engagement_report import OPENS_MISLEAD, Report, report
from services.digest import compose
from services.ops.chart import LineChart, line_chart
from services.web.auth import require
from services.web.db import DbSession
from services.web.rendering import page

router = APIRouter(prefix="/editor/digests")
editor = require(Role.EDITOR)

#: What the chart draws: a name, its colour and the counter kinds it adds up.
CHART_SERIES = (("delivered", "#047857", ("delivered",)), ("opens", "#6b7280", ("open",)),
                ("clicks", "#1d4ed8", ("click",)), ("bounces", "#b45309", ("bounce_hard", "bounce_soft")),
                ("opt-outs", "#b91c1c", ("spamreport", "unsubscribe")))


def chart(figures: Report) -> LineChart | None:
    """The first hours of the send as polylines, one per ``CHART_SERIES`` entry the report has (opens only when
    tracked); None before the send started."""
    if figures.started_at is None:
        return None
    series = {name: (colour, [sum(hours) for hours in zip(*(figures.hourly[kind] for kind in kinds))])
              for name, colour, kinds in CHART_SERIES if all(kind in figures.hourly for kind in kinds)}
    hours = len(next(iter(figures.hourly.values()), []))
    return line_chart(series, f"events per hour over the first {hours} hours from "
                              f"{figures.started_at:%Y-%m-%d %H:00} UTC")


@router.get("/{week}/report", response_class=HTMLResponse)
def report_page(request: Request, week: str, session: DbSession, user: User = Depends(editor)) -> HTMLResponse:
    digest = compose.of_week(session, week)
    figures = report(session, digest.id, request.app.state.runtime.settings.open_tracking)
    return page(request, "digest_report.html", report=figures, chart=chart(figures), opens_note=OPENS_MISLEAD)
