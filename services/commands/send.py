"""`verdicts digest send --week W [--yes]`: send a digest and watch every batch settle."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from services.commands import common

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from services.core.runtime import Runtime
    from services.delivery.progress import SendProgress

POLL_SECONDS = 0.5


def send(
    week: Annotated[str, typer.Option(help="ISO week of the digest, e.g. 2026-W48")],
    yes: Annotated[bool, typer.Option("--yes", help="do not ask before sending")] = False,
) -> None:
    """Send a week's digest; return when every batch has settled (exit 1 if any failed or is ambiguous)."""
    rt = common.booted(common.settings())
    from services.core import outbox_actors
    from services.delivery.progress import summary
    from services.delivery.send import recipient_count, start_send
    from services.digest import compose
    from services.workers import start_embedded_worker

    with rt.sessions() as session:
        digest = compose.by_week(session, week)
        if digest is None:
            common.err.print(f"[red]error:[/red] no digest for {week}; run `verdicts digest compile --week {week}` first")
            raise typer.Exit(1)
        digest_id = digest.id
        started = summary(session, digest_id).control is not None
        recipients = recipient_count(session)
    if not started and not yes and not typer.confirm(f"Send {week} to {recipients} recipient(s)?"):
        raise typer.Exit(1)
    worker = start_embedded_worker() if rt.settings.embedded else None
    try:
        with common.refusals(), rt.sessions() as session, session.begin():
            compose.approve(session, digest_id)
            start_send(session, digest_id, settings=rt.settings)
        progress = _watch(rt, digest_id, outbox_actors.relay_and_sweep, summary)
    finally:
        if worker is not None:
            worker.stop()
    table = common.table("batch state", "batches", "recipients", title=f"digest {week}")
    for state, count in sorted(progress.batches.items()):
        table.add_row(state, str(count), str(progress.recipients.get(state, 0)))
    common.console.print(table)
    if progress.troubled:
        common.err.print(f"[red]{progress.troubled} batch(es) failed or are ambiguous[/red]: see /editor/sends/{week}")
        raise typer.Exit(1)


def _watch(rt: Runtime, digest_id: int, relay: Callable[[], object],
           summary: Callable[[Session, int], SendProgress]) -> SendProgress:
    columns = (TextColumn("sending"), BarColumn(), MofNCompleteColumn(), TextColumn("recipients"), TimeElapsedColumn())
    with Progress(*columns, console=common.err) as bar:
        task = bar.add_task("send", total=None)
        while True:
            relay()  # hands the batches' events to the workers (the scheduler does too; twice is harmless)
            with rt.sessions() as session:
                progress = summary(session, digest_id)
            bar.update(task, total=progress.total, completed=progress.handed_off)
            if progress.settled and progress.control is not None:
                return progress
            time.sleep(POLL_SECONDS)
