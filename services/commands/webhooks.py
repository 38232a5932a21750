"""`verdicts webhooks failed | retry`: stored Event Webhook posts that failed to process, and sending them again."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from services.commands import common

app = typer.Typer(help="Stored Event Webhook posts.", no_args_is_help=True)


@app.command("failed")
def failed() -> None:
    """List the stored posts that failed to process (newest first, at most 50): id, events, when, the error."""
    from services.delivery.webhook_processing import stored

    rt = common.plain(common.settings())
    with rt.sessions() as session:
        batches = stored(session)
        grid = common.table("batch", "events", "received", "tries", "error", title="Failed webhook posts")
        for batch in batches:
            grid.add_row(str(batch.id), str(batch.event_count), f"{batch.received_at:%Y-%m-%d %H:%M:%S}",
                         str(batch.attempts), batch.error or "")
    if batches:
        common.console.print(grid)
    else:
        common.console.print("no stored webhook post failed")


@app.command("retry")
def retry(
    batch_ids: Annotated[Optional[list[int]], typer.Argument(help="the posts to retry (default: every failed one)")]
    = None,
) -> None:
    """Hand failed posts to a worker again (each event still counts once); exit 1 when none was failed."""
    from services.delivery.webhook_processing import retry as retry_batches

    rt = common.plain(common.settings())
    with rt.sessions() as session, session.begin():
        again = retry_batches(session, batch_ids or None)
    if not again:
        common.err.print("no failed webhook post to retry", markup=False)
        raise typer.Exit(1)
    common.console.print(f"sent {len(again)} post(s) back to the worker: {', '.join(map(str, again))}",
                         markup=False)
