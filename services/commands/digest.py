"""`verdicts digest …`: the weekly digest."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from services.commands import common

app = typer.Typer(help="The weekly digest.", no_args_is_help=True)


def _this_week() -> str:
    import datetime as dt

    from services.core.domain import iso_week

    return iso_week(dt.datetime.now(dt.timezone.utc).date())


@app.command("compile")
def digest_compile(
    week: Annotated[Optional[str], typer.Option(help="ISO week, e.g. 2026-W48 (default: this week)")] = None,
    force: Annotated[bool, typer.Option("--force", help="compile even an empty week")] = False,
) -> None:
    """Compile the digest of a week (once: a second run finds it)."""
    from services.digest.compose import compile_week

    rt = common.plain(common.settings())
    label = week or _this_week()
    with common.refusals(), rt.sessions() as session, session.begin():
        digest = compile_week(session, rt.settings, label, force=force)
        if digest is None:
            common.console.print(f"nothing to send for {label}: no new comparisons or tools (use --force)")
            return
        common.console.print(f"digest {digest.week}: {digest.subject!r} "
                             f"({digest.state}, {len(digest.sections)} sections)")
        common.console.print(f"preview: {rt.settings.public_url}/editor/digests/{digest.week}")


@app.command("preview")
def digest_preview(
    out: Annotated[Path, typer.Option("--out", help="folder for the preview files")],
    week: Annotated[Optional[str], typer.Option(help="ISO week (default: this week)")] = None,
) -> None:
    """Write what the editor preview shows (subject, preheader, HTML, plain text) to a folder."""
    from services.digest.compose import by_week
    from services.digest.previews import preview_files

    rt = common.plain(common.settings())
    label = week or _this_week()
    with rt.sessions() as session:
        digest = by_week(session, label)
        if digest is None:
            common.err.print(f"[red]error:[/red] no digest for {label}; "
                             f"run `verdicts digest compile --week {label}` first")
            raise typer.Exit(1)
        files = preview_files(rt.settings, digest)
    with common.writing(out):
        out.mkdir(parents=True, exist_ok=True)
        for name, body in files.items():
            (out / name).write_text(body, encoding="utf-8")
    common.console.print(f"wrote {', '.join(files)} to {out}")


@app.command("report")
def digest_report(
    week: Annotated[str, typer.Option(help="ISO week of the digest, e.g. 2026-W48")],
    as_json: Annotated[bool, typer.Option("--json", help="print the report as one JSON document")] = False,
) -> None:
    """A sent digest's engagement report: recipients, deliveries, bounces, opt-outs, clicks per link, votes."""
    import json

    from services.delivery.engagement_report import OPENS_MISLEAD, report
    from services.digest.compose import of_week

    rt = common.plain(common.settings())
    with common.refusals(), rt.sessions() as session:
        figures = report(session, of_week(session, week).id, rt.settings.open_tracking)
    if as_json:
        print(json.dumps(figures.as_json(), indent=2))
        return
    counts = figures.counts
    lines = [f"digest {figures.week}: {figures.subject!r} ({figures.state})",
             f"recipients        {figures.recipients}", f"delivered         {counts['delivered']}",
             f"deferred          {counts['deferred']}",
             f"bounced           {figures.bounced} ({counts['bounce_hard']} hard, {counts['bounce_soft']} soft)",
             f"dropped           {counts['dropped']}", f"spam reports      {counts['spamreport']}",
             f"unsubscribes      {counts['unsubscribe']}", f"clicks            {counts['click']}",
             f"unique clickers   {figures.unique_clickers}"]
    if figures.open_tracking:
        lines.append(f"opens             {counts['open']} ({figures.unique_openers} unique)")
    for line in lines:
        common.console.print(line, markup=False, highlight=False)
    if not figures.open_tracking:
        common.console.print(OPENS_MISLEAD, markup=False, highlight=False)
    if figures.links:
        common.console.print("clicks per link:", markup=False)
        for link in figures.links:
            common.console.print(f"  {link.clicks:>8}  {link.url}", markup=False, highlight=False)
    if figures.votes:
        common.console.print("votes since the send started (ship / skip):", markup=False)
        for tool in figures.votes:
            common.console.print(f"  {tool.name}: {tool.ship} / {tool.skip}", markup=False, highlight=False)
    if figures.failed_webhook_batches:
        common.err.print(f"warning: {figures.failed_webhook_batches} stored webhook post(s) failed to process; "
                         "their events are not counted", markup=False)
