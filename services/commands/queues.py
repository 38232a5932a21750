"""`verdicts queues [--json] [--watch]`: every broker queue with its figures, as a table or JSON."""

from __future__ import annotations

import json
import time
from typing import Annotated

import typer
from rich.live import Live
from rich.table import Table

from services.commands import common

WATCH_SECONDS = 2.0


def table(rows: list[dict[str, object]]) -> Table:
    grid = Table("queue", "ready", "delayed", "in flight", "dead", "processed 1 h", "failed 1 h",
                 title="Broker queues", caption=time.strftime("%H:%M:%S"))
    for row in rows:
        dead = f"[red]{row['dead']}[/red]" if row["dead"] else "0"
        grid.add_row(str(row["name"]), str(row["ready"]), str(row["delayed"]), str(row["in_flight"]), dead,
                     str(row["processed_last_hour"]), str(row["failed_last_hour"]))
    return grid


def queues(
    as_json: Annotated[bool, typer.Option("--json", help="print JSON (one document; with --watch one a line)")] = False,
    watch: Annotated[bool, typer.Option("--watch", help="refresh every 2 s until Ctrl-C")] = False,
) -> None:
    """Every queue in the broker: ready, delayed, in flight, dead-lettered, and the last hour."""
    settings = common.settings()
    if settings.embedded:
        common.err.print("[red]error:[/red] VERDICTS_REDIS_URL is not set; the embedded broker lives inside "
                         "`verdicts web` (see its /ops page)")
        raise typer.Exit(2)
    from services.core import broker
    from services.workers import boot

    boot(settings)  # the broker only: the figures live in Redis, not in the database
    from services.ops.overview import queue_rows

    def rows() -> list[dict[str, object]]:
        return [row.as_dict() for row in queue_rows(broker.current())]

    if not watch:
        if as_json:
            print(json.dumps(rows(), indent=2))
        else:
            common.console.print(table(rows()))
        return
    try:
        if as_json:
            while True:
                print(json.dumps(rows()), flush=True)
                time.sleep(WATCH_SECONDS)
        with Live(table(rows()), console=common.console, refresh_per_second=2) as live:
            while True:
                time.sleep(WATCH_SECONDS)
                live.update(table(rows()))
    except KeyboardInterrupt:
        return
